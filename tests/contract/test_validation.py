"""Input validation: what the mutation must refuse, and what it must survive."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from kraken_contract.client import KrakenAPI, binding_of
from kraken_contract.invariants import expect
from kraken_contract.schema import Introspection, enum_values
from kraken_contract.strategies import (
    DOCUMENTED_SERVICES,
    blank_tokens,
    salted,
    unknown_bundle_ids,
    unusual_tokens,
    wrong_case_services,
)
from kraken_contract.target import Target

INVALID_SERVICE = "KT-CT-5429"
AMBIGUOUS_BUNDLE = "KT-CT-5428"


def rejected(exchange_errors: list[object], binding: object) -> bool:
    return bool(exchange_errors) and binding is None


@pytest.mark.clause("PNB-VAL-1")
@given(token=blank_tokens())
@example(token="")
@example(token="   ")
def test_blank_token_is_rejected(kraken_api: KrakenAPI, target: Target, token: str) -> None:
    exchange = kraken_api.register(token, target.bundle_id)
    expect(
        rejected(exchange.errors, binding_of(exchange)),
        "PNB-VAL-1",
        f"the blank token {token!r} was not rejected with a GraphQL error",
        exchange,
    )


@pytest.mark.clause("PNB-VAL-2")
def test_unknown_bundle_id_is_rejected(kraken_api: KrakenAPI, target: Target) -> None:
    known = {target.bundle_id, target.ambiguous_bundle_id or target.bundle_id}

    @given(bundle_id=unknown_bundle_ids(known))
    @example(bundle_id="")
    @example(bundle_id="com.example.no-such-application")
    @example(bundle_id="é.应用.ünïcødé")
    def check(bundle_id: str) -> None:
        exchange = kraken_api.register(salted("4b" * 28), bundle_id)
        expect(
            rejected(exchange.errors, binding_of(exchange)),
            "PNB-VAL-2",
            f"the bundle id {bundle_id[:80]!r} names no application but was not rejected",
            exchange,
        )

    check()


@pytest.fixture(scope="module")
def valid_services(target_introspection: Introspection) -> set[str]:
    schema = target_introspection.schema
    found = enum_values(schema, "NotifiableApplicationService") if schema else None
    return set(DOCUMENTED_SERVICES) | (found or set())


@pytest.mark.clause("PNB-VAL-3")
def test_wrong_case_service_is_rejected(kraken_api: KrakenAPI, target: Target, valid_services: set[str]) -> None:
    @given(service=wrong_case_services(valid_services))
    @example(service="apns")
    def check(service: str) -> None:
        exchange = kraken_api.register(salted("5c" * 28), target.bundle_id, service=service)
        expect(
            INVALID_SERVICE in exchange.error_codes() and binding_of(exchange) is None,
            "PNB-VAL-3",
            f"service {service!r} is not exactly a documented value but was not rejected with {INVALID_SERVICE}",
            exchange,
        )

    check()


@pytest.mark.clause("PNB-VAL-4")
def test_ambiguous_bundle_id_needs_a_service(kraken_api: KrakenAPI, target: Target) -> None:
    assert target.ambiguous_bundle_id is not None
    exchange = kraken_api.register(salted("6d" * 28), target.ambiguous_bundle_id)
    expect(
        AMBIGUOUS_BUNDLE in exchange.error_codes() and binding_of(exchange) is None,
        "PNB-VAL-4",
        f"{target.ambiguous_bundle_id!r} is shared by several applications; without `service` it must fail "
        f"with {AMBIGUOUS_BUNDLE}",
        exchange,
    )


@pytest.mark.clause("PNB-VAL-5")
def test_service_picks_the_application(kraken_api: KrakenAPI, target: Target, valid_services: set[str]) -> None:
    assert target.ambiguous_bundle_id is not None
    matched = []
    for service in sorted(valid_services):
        exchange = kraken_api.register(salted("7e" * 28), target.ambiguous_bundle_id, service=service)
        registered = binding_of(exchange)
        if registered is None:
            continue  # no application of this bundle id has that service
        returned = (registered.get("application") or {}).get("service")
        expect(
            returned == service,
            "PNB-VAL-5",
            f"registered with service {service!r}, got an application with service {returned!r}",
            exchange,
        )
        matched.append(service)
    expect(
        len(matched) >= 2,
        "PNB-VAL-5",
        f"{target.ambiguous_bundle_id!r} should match applications of at least two services; "
        f"it matched {matched or 'none'} of {sorted(valid_services)}",
        exchange,
    )


@pytest.mark.clause("PNB-ROBUST-1")
@given(token=unusual_tokens())
@example(token="x" * 5000)
@example(token=" padded-token ")
@example(token="tab\tand\x07bell")
@example(token="ｆｕｌｌｗｉｄｔｈ-ﬁ-token")
@example(token="e\u0301-combining-\U0001f600-\u202eevil")
def test_unusual_token_is_rejected_or_echoed(kraken_api: KrakenAPI, target: Target, token: str) -> None:
    exchange = kraken_api.register(token, target.bundle_id)
    registered = binding_of(exchange)
    if registered is None:
        expect(exchange.errors, "PNB-ROBUST-1", "no binding and no GraphQL error", exchange)
        return
    returned = registered.get("token")
    expect(
        returned == token,
        "PNB-ROBUST-1",
        f"accepted a {len(token)}-character token but echoed a different one"
        + (f" ({len(returned)} characters)" if isinstance(returned, str) else f": {returned!r}"),
        exchange,
    )
