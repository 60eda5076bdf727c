"""Keeping secrets (JWTs, API keys, refresh tokens) out of messages, cassettes and reports."""

from __future__ import annotations

import re
import threading
from typing import Any

JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
SECRET_VARIABLES = frozenset({"APIKey", "apiKey", "refreshToken", "organizationSecretKey", "preSignedKey", "password"})
SECRET_RESPONSE_FIELDS = frozenset({"token", "refreshToken", "payload"})
JWT_PLACEHOLDER = "<JWT>"
MIN_SECRET_LENGTH = 6


class Redactor:
    """Replaces known secret values by stable placeholders, and anything shaped like a JWT by `<JWT>`."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, secret: str | None, placeholder: str) -> None:
        # A value this short is no credential, and masking it everywhere would garble every message.
        if secret and len(secret) >= MIN_SECRET_LENGTH and secret != placeholder:
            with self._lock:
                self._placeholders[secret] = placeholder

    def placeholder_for(self, value: str) -> str | None:
        return self._placeholders.get(value)

    def text(self, text: str) -> str:
        with self._lock:
            known = sorted(self._placeholders.items(), key=lambda item: -len(item[0]))
        for secret, placeholder in known:
            text = text.replace(secret, placeholder)
        return JWT_PATTERN.sub(JWT_PLACEHOLDER, text)

    def value(self, value: Any) -> Any:
        """A deep copy of a JSON value with every string redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value

    def variables(self, variables: Any) -> Any:
        """Request variables with credential inputs masked whatever their value."""
        if isinstance(variables, dict):
            return {
                key: (f"<{key}>" if key in SECRET_VARIABLES and isinstance(item, str) else self.variables(item))
                for key, item in variables.items()
            }
        if isinstance(variables, list):
            return [self.variables(item) for item in variables]
        return self.value(variables)

    def authorization(self, header: str | None) -> str | None:
        """An `Authorization` value as a placeholder naming whose token it is, never the token."""
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if not token:
            scheme, token = "", header
        known = token if _is_placeholder(token) else self.placeholder_for(token)
        if known is None:
            known = "<JWT>" if JWT_PATTERN.fullmatch(token) else "<REDACTED>"
        return f"{scheme} {known}" if scheme else known


def _is_placeholder(value: str) -> bool:
    return value.startswith("<") and value.endswith(">")
