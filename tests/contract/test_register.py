"""Behaviour of a successful registration: it succeeds, and echoes what was sent and who sent it."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from kraken_contract.client import KrakenAPI, binding_of
from kraken_contract.invariants import expect
from kraken_contract.plugin import Person, RegisterBinding
from kraken_contract.schema import Introspection, enum_values
from kraken_contract.strategies import DOCUMENTED_SERVICES, apns_tokens, device_tokens, fcm_tokens, salted
from kraken_contract.target import Target

UPPER_APNS = salted("ABCDEF0123456789" * 3 + "FEDCBA98").upper()
LONG_FCM = salted("dGhpcy1pcy1hbi1mY20:APA91b" + "Zx9_-Q" * 22)


@pytest.mark.clause("PNB-REG-1")
@given(token=device_tokens())
def test_valid_registration_succeeds(kraken_api: KrakenAPI, target: Target, token: str) -> None:
    exchange = kraken_api.register(token, target.bundle_id)
    expect(not exchange.errors, "PNB-REG-1", "the registration returned `errors`", exchange)
    expect(binding_of(exchange) is not None, "PNB-REG-1", "`pushNotificationBinding` is null", exchange)


@pytest.mark.clause("PNB-ECHO-1")
@given(token=apns_tokens() | fcm_tokens())
@example(token=UPPER_APNS)
@example(token=LONG_FCM)
def test_token_is_echoed_exactly(binding: RegisterBinding, token: str) -> None:
    registration = binding(token)
    returned = registration.binding.get("token")
    expect(
        returned == token,
        "PNB-ECHO-1",
        f"sent a {len(token)}-character token, got back {returned!r}"
        + (f" ({len(returned)} characters)" if isinstance(returned, str) else ""),
        registration.exchange,
    )


@pytest.mark.clause("PNB-ECHO-2")
def test_bundle_id_is_echoed(binding: RegisterBinding, target: Target) -> None:
    registration = binding(salted("a1" * 28))
    application = registration.binding.get("application") or {}
    expect(
        application.get("bundleId") == target.bundle_id,
        "PNB-ECHO-2",
        f"sent bundleId {target.bundle_id!r}, got application.bundleId {application.get('bundleId')!r}",
        registration.exchange,
    )


@pytest.mark.clause("PNB-APP-1")
def test_application_is_named_and_has_a_service(binding: RegisterBinding, target_introspection: Introspection) -> None:
    registration = binding(salted("b2" * 28))
    application = registration.binding.get("application") or {}
    name, service = application.get("name"), application.get("service")
    expect(
        isinstance(name, str) and name.strip(),
        "PNB-APP-1",
        f"application.name is {name!r}",
        registration.exchange,
    )
    known = set(DOCUMENTED_SERVICES)
    if target_introspection.schema is not None:
        known |= enum_values(target_introspection.schema, "NotifiableApplicationService") or set()
    expect(
        service in known,
        "PNB-APP-1",
        f"application.service is {service!r}, not one of {sorted(known)}",
        registration.exchange,
    )


@pytest.mark.clause("PNB-USER-1")
def test_user_is_the_viewer(binding: RegisterBinding, viewer: Person) -> None:
    registration = binding(salted("c3" * 28))
    returned = Person.of(registration.binding.get("user"))
    expect(
        returned == viewer,
        "PNB-USER-1",
        f"the viewer is {viewer}, the binding's user is {returned}",
        registration.exchange,
    )
