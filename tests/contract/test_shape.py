"""Response shape: what comes back is what was asked for, typed as the pinned schema says. Every successful
response of the run is checked this way as it arrives; these tests make sure each documented operation is."""

from __future__ import annotations

import pytest

from kraken_contract.client import Exchange, KrakenAPI
from kraken_contract.invariants import ShapeChecker, expect
from kraken_contract.plugin import RegisterBinding
from kraken_contract.strategies import salted


@pytest.fixture
def documented_responses(binding: RegisterBinding, kraken_api: KrakenAPI) -> list[Exchange]:
    """A successful response to each documented operation but obtainKrakenToken (set-up, and secret)."""
    token = salted("8a" * 28)
    registered = binding(token).exchange
    return [registered, kraken_api.viewer(), kraken_api.delete(token)]


def check_shape(clause_id: str, shapes: ShapeChecker, exchanges: list[Exchange]) -> None:
    for exchange in exchanges:
        problems = [problem for found, problem in shapes.problems(exchange.query, exchange.data) if found == clause_id]
        expect(not problems, clause_id, "; ".join(problems), exchange)


@pytest.mark.clause("PNB-SHAPE-1")
def test_requested_fields_are_present_and_typed(
    response_shape: ShapeChecker, documented_responses: list[Exchange]
) -> None:
    check_shape("PNB-SHAPE-1", response_shape, documented_responses)


@pytest.mark.clause("PNB-SHAPE-2")
def test_enum_values_are_values_of_the_enum(response_shape: ShapeChecker, documented_responses: list[Exchange]) -> None:
    check_shape("PNB-SHAPE-2", response_shape, documented_responses)


@pytest.mark.clause("PNB-SHAPE-3")
def test_datetimes_have_an_offset(response_shape: ShapeChecker, documented_responses: list[Exchange]) -> None:
    check_shape("PNB-SHAPE-3", response_shape, documented_responses)


@pytest.mark.clause("PNB-SHAPE-4")
def test_nothing_unrequested_comes_back(response_shape: ShapeChecker, documented_responses: list[Exchange]) -> None:
    check_shape("PNB-SHAPE-4", response_shape, documented_responses)
