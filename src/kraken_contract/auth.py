"""Kraken tokens: used as given, or obtained through obtainKrakenToken and refreshed before they expire."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import jwt
import requests
from requests.auth import AuthBase

from kraken_contract.redaction import Redactor
from kraken_contract.target import REPLAY_PLACEHOLDERS, AuthScheme, Credentials

TOKEN_LIFETIME = 60 * 60  # "only valid for 60 minutes from time of issuance" (basics guide)
REFRESH_MARGIN = 5 * 60

# Runs obtainKrakenToken with the given input; returns its data (token, refreshToken, payload, ...).
TokenExchange = Callable[[dict[str, str]], dict[str, Any]]


class AuthenticationFailed(Exception):
    """The configured credentials could not be exchanged for a Kraken token (one line, no secret)."""


class TokenSource(Protocol):
    def token(self) -> str: ...


class StaticToken:
    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


def token_expiry(token: str, payload: Any = None) -> float:
    """When a JWT expires (its `exp` claim), or 60 minutes from now when it cannot be read."""
    for claims in (payload, _unverified_claims(token)):
        if isinstance(claims, dict) and isinstance(claims.get("exp"), int | float):
            return float(claims["exp"])
    return time.time() + TOKEN_LIFETIME


def _unverified_claims(token: str) -> dict[str, Any] | None:
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None


class ExchangedToken:
    """A token obtained from an API key or refresh token, refreshed before it expires during long runs."""

    def __init__(
        self,
        credentials: Credentials,
        exchange: TokenExchange,
        redactor: Redactor,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = credentials
        self._exchange = exchange
        self._redactor = redactor
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0
        self.exchanges = 0

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() > self._expires_at - REFRESH_MARGIN:
                self._renew()
            assert self._token is not None
            return self._token

    def _renew(self) -> None:
        attempts: list[dict[str, str]] = []
        if self._refresh_token:
            attempts.append({"refreshToken": self._refresh_token})
        field = "APIKey" if self._credentials.kind == "api_key" else "refreshToken"
        attempts.append({field: self._credentials.secret})
        problem = ""
        for input_value in attempts:
            self.exchanges += 1
            try:
                result = self._exchange(input_value)
            except Exception as error:  # the exchange reports GraphQL errors and failed requests as exceptions
                problem = " ".join(str(error).split())
                continue
            token = result.get("token")
            if isinstance(token, str) and token:
                self._token = token
                self._refresh_token = result.get("refreshToken") or self._refresh_token
                self._expires_at = token_expiry(token, result.get("payload"))
                self._redactor.add(token, REPLAY_PLACEHOLDERS["primary"])
                if self._refresh_token:
                    self._redactor.add(self._refresh_token, "<refreshToken>")
                return
            problem = "the response has no token"
        raise AuthenticationFailed(
            f"could not obtain a Kraken token with {self._credentials.variable}: {self._redactor.text(problem)}"
        )

    def __repr__(self) -> str:
        return f"ExchangedToken({self._credentials.variable})"


def authorization_value(token: str, scheme: AuthScheme) -> str:
    return token if scheme == "bare" else f"JWT {token}"


class KrakenAuth(AuthBase):
    """Sets `Authorization` on every request from a token source, so refreshed tokens are used at once."""

    def __init__(self, source: TokenSource, scheme: AuthScheme) -> None:
        self.source = source
        self.scheme = scheme

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = authorization_value(self.source.token(), self.scheme)
        return request

    def __repr__(self) -> str:
        return f"KrakenAuth({self.source!r}, {self.scheme})"
