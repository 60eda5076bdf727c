"""Time clauses: formats, the server clock, expiry, and re-registration."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given

from kraken_contract.client import KrakenAPI, binding_of
from kraken_contract.invariants import expect, parse_datetime, precision, server_clock, violated
from kraken_contract.plugin import RegisterBinding, Registration
from kraken_contract.schema import Introspection, input_type
from kraken_contract.strategies import expiry_delays, salted, utc_offsets
from kraken_contract.target import Target


def instant(clause_id: str, registration: Registration, field: str) -> datetime:
    value = registration.binding.get(field)
    try:
        return parse_datetime(value)
    except ValueError as error:
        raise violated(clause_id, f"`{field}`: {error}", registration.exchange) from None


@pytest.mark.clause("PNB-TIME-1")
def test_datetimes_are_iso8601_with_offset(binding: RegisterBinding) -> None:
    registration = binding(salted("d4" * 28))
    for field in ("registeredAt", "expiresAt"):
        instant("PNB-TIME-1", registration, field)


@pytest.mark.clause("PNB-TIME-2")
def test_registered_at_is_the_server_time(binding: RegisterBinding, target: Target) -> None:
    registration = binding(salted("e5" * 28))
    registered = instant("PNB-TIME-2", registration, "registeredAt")
    earliest, latest, source = server_clock(registration.exchange)
    tolerance = timedelta(seconds=target.clock_tolerance)
    expect(
        earliest - tolerance <= registered <= latest + tolerance,
        "PNB-TIME-2",
        f"registeredAt {registered.isoformat()} is {describe_gap(registered, earliest, latest)} "
        f"{source}; tolerance {target.clock_tolerance:g} s",
        registration.exchange,
    )


def describe_gap(moment: datetime, earliest: datetime, latest: datetime) -> str:
    if moment < earliest:
        return f"{(earliest - moment).total_seconds():.0f} s before"
    return f"{(moment - latest).total_seconds():.0f} s after"


@pytest.mark.clause("PNB-TIME-3")
def test_expiry_is_after_registration(binding: RegisterBinding) -> None:
    registration = binding(salted("f6" * 28))
    registered = instant("PNB-TIME-3", registration, "registeredAt")
    expires = instant("PNB-TIME-3", registration, "expiresAt")
    expect(
        expires > registered,
        "PNB-TIME-3",
        f"expiresAt {expires.isoformat()} is not after registeredAt {registered.isoformat()}",
        registration.exchange,
    )


@pytest.fixture
def registered_at(binding: RegisterBinding, target_introspection: Introspection) -> datetime:
    """The server's time, read from a registration (so a replay sends the same expiry as its recording)."""
    schema = target_introspection.schema
    found = input_type(schema, "RegisterPushNotificationBindingInput") if schema else None
    if found is not None and "expiresAt" not in found.fields:
        pytest.skip("the target's RegisterPushNotificationBindingInput has no expiresAt")
    return instant("PNB-TIME-4", binding(salted("07" * 28)), "registeredAt")


@pytest.mark.clause("PNB-TIME-4")
@given(offset=utc_offsets(), delay=expiry_delays())
@example(offset=timedelta(hours=-5), delay=timedelta(days=30, seconds=1, microseconds=250_000))
def test_requested_expiry_is_kept(
    binding: RegisterBinding, registered_at: datetime, offset: timedelta, delay: timedelta
) -> None:
    requested = (registered_at + delay).astimezone(timezone(offset))
    text = requested.isoformat(timespec="microseconds")
    registration = binding(salted("18" * 28), expires_at=text)
    returned_text = registration.binding.get("expiresAt")
    returned = instant("PNB-TIME-4", registration, "expiresAt")
    # Equal to the precision the server writes (whole seconds, milliseconds...): both are conformant.
    expect(
        abs(returned - requested) < precision(str(returned_text)),
        "PNB-TIME-4",
        f"requested expiresAt {text}, got {returned_text} ({(returned - requested).total_seconds():+.6f} s)",
        registration.exchange,
    )


@pytest.mark.clause("PNB-IDEM-1")
def test_reregistration_succeeds(binding: RegisterBinding, kraken_api: KrakenAPI, target: Target) -> None:
    token = salted("29" * 28)
    binding(token)
    again = kraken_api.register(token, target.bundle_id)
    expect(
        binding_of(again) is not None and not again.errors,
        "PNB-IDEM-1",
        "registering the same token a second time failed",
        again,
    )


@pytest.mark.clause("PNB-IDEM-2")
def test_reregistration_refreshes_registered_at(binding: RegisterBinding) -> None:
    token = salted("3a" * 28)
    first = instant("PNB-IDEM-2", binding(token), "registeredAt")
    second_registration = binding(token)
    second = instant("PNB-IDEM-2", second_registration, "registeredAt")
    expect(
        second >= first,
        "PNB-IDEM-2",
        f"the second registeredAt {second.isoformat()} is earlier than the first {first.isoformat()}",
        second_registration.exchange,
    )
