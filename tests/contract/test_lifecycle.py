"""Lifecycle: register, delete, delete again, delete the unknown."""

from __future__ import annotations

import pytest
from hypothesis import given

from kraken_contract.client import KrakenAPI, delete_status
from kraken_contract.invariants import expect
from kraken_contract.plugin import RegisterBinding
from kraken_contract.strategies import device_tokens, salted

NOT_FOUND = "KT-CT-5411"


@pytest.mark.clause("PNB-LIFE-1")
def test_delete_after_register_succeeds(binding: RegisterBinding, kraken_api: KrakenAPI) -> None:
    token = salted("3d" * 28)
    binding(token)
    exchange = kraken_api.delete(token)
    expect(
        delete_status(exchange) == "SUCCESSFUL" and not exchange.errors,
        "PNB-LIFE-1",
        f"deleting a registered token returned status {delete_status(exchange)!r}",
        exchange,
    )


@pytest.mark.clause("PNB-LIFE-2")
def test_second_delete_is_not_found(binding: RegisterBinding, kraken_api: KrakenAPI) -> None:
    token = salted("4e" * 28)
    binding(token)
    first = kraken_api.delete(token)
    second = kraken_api.delete(token)
    expect(
        NOT_FOUND in second.error_codes() and delete_status(second) != "SUCCESSFUL",
        "PNB-LIFE-2",
        f"deleting the token again returned {delete_status(second)!r} {second.error_codes()}, not {NOT_FOUND}",
        first,
        second,
    )


@pytest.mark.clause("PNB-LIFE-3")
@given(token=device_tokens())
def test_deleting_an_unknown_token_is_not_found(kraken_api: KrakenAPI, token: str) -> None:
    exchange = kraken_api.delete("never-registered-" + token)
    expect(
        NOT_FOUND in exchange.error_codes() and delete_status(exchange) != "SUCCESSFUL",
        "PNB-LIFE-3",
        f"deleting a token that was never registered returned {delete_status(exchange)!r} "
        f"{exchange.error_codes()}, not {NOT_FOUND}",
        exchange,
    )
