"""Authentication: no header, forged, malformed and expired tokens, and the two header forms."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import jwt
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kraken_contract.client import KrakenAPI, binding_of
from kraken_contract.invariants import error_types, expect
from kraken_contract.plugin import ClauseNote
from kraken_contract.strategies import salted
from kraken_contract.target import Target

MISSING_HEADER = "KT-CT-1112"
UNAUTHORIZED = "KT-CT-1111"
NOT_FOUND = "KT-CT-5411"


def forged_token(genuine: str) -> str:
    """The genuine token's claims, signed with a key the server cannot know."""
    try:
        claims = jwt.decode(genuine, options={"verify_signature": False})
    except jwt.PyJWTError:
        claims = {"sub": "1", "exp": 4102444800}
    return jwt.encode(claims, "not-the-server-key-" + "x" * 32, algorithm="HS256")


def unsigned_token(genuine: str) -> str:
    """alg=none: the claims with no signature at all."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    payload = genuine.split(".")[1] if genuine.count(".") == 2 else "e30"
    return f"{header}.{payload}."


@pytest.mark.clause("PNB-AUTH-1")
def test_missing_header_is_kt_ct_1112(anonymous_api: KrakenAPI, target: Target) -> None:
    exchange = anonymous_api.register(salted("d4" * 28), target.bundle_id)
    expect(
        MISSING_HEADER in exchange.error_codes() and binding_of(exchange) is None,
        "PNB-AUTH-1",
        f"without an Authorization header the error codes are {exchange.error_codes()}, not {MISSING_HEADER}",
        exchange,
    )


@pytest.mark.clause("PNB-AUTH-2")
@given(
    kind=st.sampled_from(["forged", "unsigned", "truncated", "garbage"]),
    garbage=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60),
)
@example(kind="forged", garbage="x")
def test_forged_or_malformed_token_is_refused(
    api_with_authorization: Callable[[str], KrakenAPI],
    kraken_api: KrakenAPI,
    primary_token: str,
    target: Target,
    kind: str,
    garbage: str,
) -> None:
    bad = {
        "forged": forged_token(primary_token),
        "unsigned": unsigned_token(primary_token),
        "truncated": primary_token[:-6],
        "garbage": garbage.strip() or "x",
    }[kind]
    header = bad if target.auth_scheme == "bare" else f"JWT {bad}"
    token = salted("e5" * 28)
    exchange = api_with_authorization(header).register(token, target.bundle_id)
    expect(
        binding_of(exchange) is None
        and (UNAUTHORIZED in exchange.error_codes() or "AUTHORIZATION" in error_types(exchange)),
        "PNB-AUTH-2",
        f"a {kind} token was not refused with an authorization error",
        exchange,
    )
    leftover = kraken_api.delete(token)
    expect(
        NOT_FOUND in leftover.error_codes(),
        "PNB-AUTH-2",
        f"after the {kind}-token request, the account user could delete the token: it was registered",
        exchange,
        leftover,
    )


@pytest.mark.clause("PNB-AUTH-3")
def test_expired_token_never_registers(expired_api: KrakenAPI, kraken_api: KrakenAPI, target: Target) -> None:
    token = salted("f6" * 28)
    exchange = expired_api.register(token, target.bundle_id)
    leftover = kraken_api.delete(token)
    expect(
        binding_of(exchange) is None and exchange.errors and NOT_FOUND in leftover.error_codes(),
        "PNB-AUTH-3",
        "a registration with an expired token succeeded",
        exchange,
        leftover,
    )


@pytest.mark.clause("PNB-AUTH-4")
def test_both_header_forms_are_accepted(
    api_with_authorization: Callable[[str], KrakenAPI], primary_token: str, clause_note: ClauseNote
) -> None:
    results = {}
    for form, header in (("JWT <token>", f"JWT {primary_token}"), ("bare token", primary_token)):
        exchange = api_with_authorization(header).viewer()
        results[form] = (exchange, exchange.field("viewer") is not None and not exchange.errors)
    clause_note("PNB-AUTH-4", "accepted: " + (", ".join(f for f, (_, ok) in results.items() if ok) or "neither"))
    refused = [form for form, (_, ok) in results.items() if not ok]
    expect(
        not refused,
        "PNB-AUTH-4",
        f"the {' and '.join(refused)} form was refused",
        *(exchange for exchange, ok in results.values() if not ok),
    )
