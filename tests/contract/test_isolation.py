"""Isolation between account users (needs KRAKEN_SECONDARY_JWT)."""

from __future__ import annotations

import pytest

from kraken_contract.client import KrakenAPI, binding_of, delete_status
from kraken_contract.invariants import expect
from kraken_contract.plugin import Person, RegisterBinding
from kraken_contract.strategies import salted
from kraken_contract.target import Target

NOT_FOUND = "KT-CT-5411"


@pytest.mark.clause("PNB-ISO-1")
def test_other_user_cannot_delete_a_binding(
    binding: RegisterBinding, kraken_api: KrakenAPI, secondary_api: KrakenAPI
) -> None:
    token = salted("0a" * 28)
    binding(token)
    intrusion = secondary_api.delete(token)
    expect(
        NOT_FOUND in intrusion.error_codes() and delete_status(intrusion) != "SUCCESSFUL",
        "PNB-ISO-1",
        f"another account user deleting this user's token got {delete_status(intrusion)!r} "
        f"{intrusion.error_codes()}, not {NOT_FOUND}",
        intrusion,
    )
    owner = kraken_api.delete(token)
    expect(
        delete_status(owner) == "SUCCESSFUL",
        "PNB-ISO-1",
        "after another user's attempt, the owner could no longer delete the binding",
        intrusion,
        owner,
    )


@pytest.mark.clause("PNB-ISO-2")
def test_binding_never_shows_another_users_names(
    binding: RegisterBinding,
    secondary_api: KrakenAPI,
    viewer: Person,
    secondary_viewer: Person,
    target: Target,
) -> None:
    if viewer == secondary_viewer:
        pytest.skip("the two account users have the same names, so a mix-up cannot be seen")
    own = secondary_api.register(salted("1b" * 28), target.bundle_id)
    own_user = Person.of((binding_of(own) or {}).get("user"))
    expect(
        own_user == secondary_viewer,
        "PNB-ISO-2",
        f"the second user's binding shows {own_user}, the second user is {secondary_viewer}",
        own,
    )
    token = salted("2c" * 28)
    binding(token)
    taken_over = secondary_api.register(token, target.bundle_id)
    shown = Person.of((binding_of(taken_over) or {}).get("user"))
    expect(
        shown is None or shown == secondary_viewer,
        "PNB-ISO-2",
        f"the second user re-registered the first user's token and the binding shows {shown}",
        taken_over,
    )
