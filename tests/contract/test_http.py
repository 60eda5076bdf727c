"""GraphQL over HTTP: content type, GET, server errors, validation errors."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from kraken_contract.client import Exchange, KrakenAPI
from kraken_contract.invariants import check_no_server_error, expect, is_json_response
from kraken_contract.resources import operation_text
from kraken_contract.strategies import salted
from kraken_contract.target import Target

NOT_FOUND = "KT-CT-5411"
RawGraphQL = Callable[..., Exchange]


@pytest.mark.clause("PNB-HTTP-1")
def test_responses_are_json(raw_graphql: RawGraphQL) -> None:
    for identity in ("primary", None):
        exchange = raw_graphql({"query": operation_text("Viewer")}, identity=identity, checked=False)
        expect(
            is_json_response(exchange),
            "PNB-HTTP-1",
            f"Content-Type is {exchange.content_type!r} (or the body is not a JSON object)",
            exchange,
        )


@pytest.mark.clause("PNB-HTTP-2")
def test_mutation_over_get_is_not_executed(raw_graphql: RawGraphQL, kraken_api: KrakenAPI, target: Target) -> None:
    token = salted("5f" * 28)
    variables = {"input": {"token": token, "bundleId": target.bundle_id}}
    params = {"query": operation_text("RegisterPushNotificationBinding"), "variables": json.dumps(variables)}
    over_get = raw_graphql(method="GET", params=params, checked=False)
    check_no_server_error(over_get)
    afterwards = kraken_api.delete(token)
    expect(
        NOT_FOUND in afterwards.error_codes(),
        "PNB-HTTP-2",
        "the mutation sent with GET was executed: its token could be deleted afterwards",
        over_get,
        afterwards,
    )


@pytest.mark.clause("PNB-HTTP-3")
def test_no_server_error_on_hostile_requests(raw_graphql: RawGraphQL, kraken_api: KrakenAPI, target: Target) -> None:
    document = operation_text("RegisterPushNotificationBinding")
    exchanges = [
        raw_graphql(content=b'{"query": "mutation {', checked=False),
        raw_graphql(content=b"\xff\xfe not json", checked=False),
        raw_graphql({"query": document, "variables": {"input": {"token": 123, "bundleId": None}}}, valid=False),
        raw_graphql({"query": "mutation { registerPushNotificationBinding }"}, valid=False),
        kraken_api.register("y" * 20000, target.bundle_id),
        kraken_api.register(salted("nul\x00byte"), target.bundle_id),
        kraken_api.register(salted("60" * 28), "no.such.application.\u00e9\u4e2d"),
    ]
    for exchange in exchanges:
        check_no_server_error(exchange)


def missing_bundle_id(raw_graphql: RawGraphQL) -> Exchange:
    """A request that fails GraphQL validation; its status is what these clauses judge."""
    document = operation_text("RegisterPushNotificationBinding")
    return raw_graphql({"query": document, "variables": {"input": {"token": salted("71" * 28)}}}, checked=False)


@pytest.mark.clause("PNB-HTTP-4")
def test_validation_error_is_200_or_400_with_json_errors(raw_graphql: RawGraphQL) -> None:
    exchange = missing_bundle_id(raw_graphql)
    expect(
        exchange.status in (200, 400) and is_json_response(exchange) and exchange.errors,
        "PNB-HTTP-4",
        f"a request without the required bundleId got HTTP {exchange.status} "
        f"({exchange.content_type or 'no content type'}), {len(exchange.errors)} errors",
        exchange,
    )


@pytest.mark.clause("PNB-HTTP-5")
def test_validation_error_is_200(raw_graphql: RawGraphQL) -> None:
    exchange = missing_bundle_id(raw_graphql)
    expect(exchange.status == 200, "PNB-HTTP-5", f"a validation error got HTTP {exchange.status}", exchange)
