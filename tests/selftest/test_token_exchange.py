"""Token exchange and refresh before expiry, with a fake clock."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from kraken_contract.auth import AuthenticationFailed, ExchangedToken, authorization_value
from kraken_contract.redaction import Redactor
from kraken_contract.target import Credentials


class FakeExchange:
    def __init__(self, now: list[float]) -> None:
        self.now = now
        self.inputs: list[dict[str, str]] = []

    def __call__(self, token_input: dict[str, str]) -> dict[str, Any]:
        self.inputs.append(token_input)
        if token_input.get("APIKey") == "wrong":
            raise RuntimeError("KT-CT-1139 Invalid data.")
        token = jwt.encode({"sub": "1", "exp": self.now[0] + 3600, "n": len(self.inputs)}, "k" * 32, algorithm="HS256")
        return {"token": token, "refreshToken": f"refresh-{len(self.inputs)}"}


def test_api_key_is_exchanged_once_then_refreshed_before_expiry() -> None:
    now = [1_000_000.0]
    exchange = FakeExchange(now)
    source = ExchangedToken(Credentials("api_key", "key", "KRAKEN_API_KEY"), exchange, Redactor(), lambda: now[0])
    first = source.token()
    assert source.token() == first
    assert exchange.inputs == [{"APIKey": "key"}]
    now[0] += 3600 - 60  # inside the refresh margin
    assert source.token() != first
    assert exchange.inputs[-1] == {"refreshToken": "refresh-1"}


def test_obtained_tokens_are_redacted() -> None:
    redactor = Redactor()
    source = ExchangedToken(Credentials("api_key", "key", "KRAKEN_API_KEY"), FakeExchange([0.0]), redactor)
    token = source.token()
    assert redactor.text(token) == "<KRAKEN_JWT>"


def test_failed_exchange_is_one_line_without_the_secret() -> None:
    source = ExchangedToken(Credentials("api_key", "wrong", "KRAKEN_API_KEY"), FakeExchange([0.0]), Redactor())
    with pytest.raises(AuthenticationFailed, match="could not obtain a Kraken token with KRAKEN_API_KEY") as raised:
        source.token()
    assert "wrong" not in str(raised.value)


def test_header_schemes() -> None:
    assert authorization_value("t", "JWT") == "JWT t"
    assert authorization_value("t", "bare") == "t"
