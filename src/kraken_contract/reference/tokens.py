"""Kraken tokens of the reference deployment: HS256 JWTs with a per-deployment secret; refresh tokens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ACCESS_TOKEN_LIFETIME = timedelta(minutes=60)
REFRESH_TOKEN_LIFETIME = timedelta(days=7)
ISSUER = "kraken-contract-reference"
_ALGORITHM = "HS256"


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


class TokenIssuer:
    """Mints and checks access tokens; each instance has its own random signing secret."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def mint(self, user_id: int, *, issued_at: datetime | None = None) -> tuple[str, dict[str, Any]]:
        """A token for the user, valid for 60 minutes from issued_at (default now), and its claims."""
        issued_at = issued_at or datetime.now(UTC)
        issued = int(issued_at.timestamp())
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "gty": "API-KEY",
            "tokenUse": "access",
            "iss": ISSUER,
            "iat": issued,
            "exp": issued + int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "origIat": issued,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM), claims

    def claims(self, token: str, *, verify_signature: bool = True, verify_expiry: bool = True) -> dict[str, Any]:
        """The token's claims: jwt.ExpiredSignatureError when it has expired, another jwt.InvalidTokenError
        when it cannot be trusted. The fault switches turn off the signature or the expiry check."""
        return jwt.decode(
            token,
            self._secret,
            algorithms=[_ALGORITHM],
            options={
                "verify_signature": verify_signature,
                "verify_exp": verify_expiry,
                "require": ["sub", "iat", "exp"],
            },
        )
