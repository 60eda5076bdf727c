"""A real GraphQL server implementing the Kraken push-notification API slice, with switchable faults.

It lets the contract suite run with no endpoint of its own, and is the target the suite's fault
detection is measured against: each switch in SWITCHES turns on one plausible deployment bug or one
conformant-but-different behaviour.
"""

from kraken_contract.reference.server import ReferenceConfig, ReferenceDeployment
from kraken_contract.reference.switches import SWITCHES, Switch, UnknownSwitch

__all__ = ["SWITCHES", "ReferenceConfig", "ReferenceDeployment", "Switch", "UnknownSwitch"]
