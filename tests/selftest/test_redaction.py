"""Secrets never reach a message: known values, anything shaped like a JWT, credential variables."""

from __future__ import annotations

import jwt

from kraken_contract.redaction import Redactor

A_JWT = jwt.encode({"sub": "1001", "exp": 4102444800}, "k" * 32, algorithm="HS256")


def test_known_secrets_become_their_placeholder() -> None:
    redactor = Redactor()
    redactor.add("sk-very-secret-key", "<KRAKEN_API_KEY>")
    assert redactor.text("key=sk-very-secret-key.") == "key=<KRAKEN_API_KEY>."


def test_any_jwt_is_masked() -> None:
    assert A_JWT not in Redactor().text(f"Authorization: JWT {A_JWT}")


def test_credential_variables_are_masked_by_name() -> None:
    masked = Redactor().variables({"input": {"APIKey": "anything", "refreshToken": "r"}})
    assert masked == {"input": {"APIKey": "<APIKey>", "refreshToken": "<refreshToken>"}}


def test_authorization_names_whose_token_it_is() -> None:
    redactor = Redactor()
    redactor.add(A_JWT, "<KRAKEN_JWT>")
    assert redactor.authorization(f"JWT {A_JWT}") == "JWT <KRAKEN_JWT>"
    assert redactor.authorization(A_JWT) == "<KRAKEN_JWT>"
    assert redactor.authorization("JWT <KRAKEN_JWT>") == "JWT <KRAKEN_JWT>"
    other = jwt.encode({"sub": "2"}, "x" * 32, algorithm="HS256")
    assert redactor.authorization(f"JWT {other}") == "JWT <JWT>"
    assert redactor.authorization("JWT garbage") == "JWT <REDACTED>"
