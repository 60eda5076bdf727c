"""The Kraken error shape, and what a failed or successful mutation carries."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kraken_contract.client import Exchange, KrakenAPI, binding_of
from kraken_contract.invariants import error_shape_problems, expect
from kraken_contract.resources import operation_text
from kraken_contract.strategies import salted
from kraken_contract.target import Target


def failing_calls(kraken_api: KrakenAPI, anonymous_api: KrakenAPI, target: Target) -> list[Exchange]:
    """Requests the contract says must fail, each for a documented reason."""
    return [
        anonymous_api.register(salted("8f" * 28), target.bundle_id),  # no Authorization header
        kraken_api.delete(salted("90" * 28)),  # never registered
        kraken_api.register(salted("a1" * 28), target.bundle_id, service="apns"),  # not an exact service
        kraken_api.register("", target.bundle_id),  # blank token
    ]


@pytest.mark.clause("PNB-ERR-1")
def test_errors_have_the_kraken_shape(kraken_api: KrakenAPI, anonymous_api: KrakenAPI, target: Target) -> None:
    # Every exchange is also checked on arrival; this test makes sure errors were produced to check.
    exchanges = failing_calls(kraken_api, anonymous_api, target)
    with_errors = [exchange for exchange in exchanges if exchange.errors]
    expect(with_errors, "PNB-ERR-1", "none of the requests that must fail returned an error to check", *exchanges)
    for exchange in with_errors:
        problems = [problem for error in exchange.errors for problem in error_shape_problems(error)]
        expect(not problems, "PNB-ERR-1", "; ".join(problems), exchange)


@pytest.mark.clause("PNB-ERR-2")
def test_failed_mutation_has_null_data(kraken_api: KrakenAPI, anonymous_api: KrakenAPI, target: Target) -> None:
    for exchange in failing_calls(kraken_api, anonymous_api, target):
        if not exchange.errors or exchange.operation_name != "RegisterPushNotificationBinding":
            continue
        expect(
            exchange.field("registerPushNotificationBinding") is None,
            "PNB-ERR-2",
            "the mutation failed but `data.registerPushNotificationBinding` is not null",
            exchange,
        )


@pytest.mark.clause("PNB-ERR-3")
def test_success_carries_no_errors(kraken_api: KrakenAPI, target: Target) -> None:
    exchange = kraken_api.register(salted("b2" * 28), target.bundle_id)
    expect(binding_of(exchange) is not None, "PNB-REG-1", "the registration returned no binding", exchange)
    expect(not exchange.errors, "PNB-ERR-3", "a successful registration carries `errors`", exchange)
    expect(
        not isinstance(exchange.body, dict) or "errors" not in exchange.body or exchange.body["errors"] == [],
        "PNB-ERR-3",
        "a successful registration has an `errors` entry",
        exchange,
    )


@pytest.mark.clause("PNB-ERR-4")
def test_validation_errors_have_kraken_extensions(raw_graphql: Callable[..., Exchange]) -> None:
    document = operation_text("RegisterPushNotificationBinding")
    exchange = raw_graphql({"query": document, "variables": {"input": {"token": salted("c3" * 28)}}}, valid=False)
    expect(exchange.errors, "PNB-HTTP-4", "a request without the required bundleId returned no errors", exchange)
    problems = [problem for error in exchange.errors for problem in error_shape_problems(error)]
    expect(not problems, "PNB-ERR-4", "; ".join(problems), exchange)
