"""What the suite runs against: one `Target`, built from pytest options and KRAKEN_* environment variables."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

Mode = Literal["live", "record", "replay"]
CredentialKind = Literal["jwt", "api_key", "refresh_token"]
AuthScheme = Literal["JWT", "bare"]

DEFAULT_BUNDLE_ID = "test.app.bundle.id"
DEFAULT_TIMEOUT = 10.0
DEFAULT_CLOCK_TOLERANCE = 120.0
DEFAULT_PRODUCTION_HOSTS = ("api.octopus.energy", "api.*-kraken.energy", "api.*.kraken.tech")
TEST_HOST_LABELS = frozenset({"test", "testing", "staging", "sandbox", "dev", "uat", "qa"})

# First one set wins.
CREDENTIAL_VARIABLES: tuple[tuple[str, CredentialKind], ...] = (
    ("KRAKEN_JWT", "jwt"),
    ("KRAKEN_API_KEY", "api_key"),
    ("KRAKEN_REFRESH_TOKEN", "refresh_token"),
)
REPLAY_PLACEHOLDERS = {
    "primary": "<KRAKEN_JWT>",
    "secondary": "<KRAKEN_SECONDARY_JWT>",
    "expired": "<KRAKEN_EXPIRED_JWT>",
}


class ConfigurationError(Exception):
    """Bad or missing configuration; the message is one line naming what to fix."""


@dataclass(frozen=True)
class Credentials:
    kind: CredentialKind
    secret: str = field(repr=False)
    variable: str

    def __repr__(self) -> str:
        return f"Credentials({self.variable}=<redacted>)"


@dataclass(frozen=True)
class Target:
    url: str
    mode: Mode
    origin: Literal["remote", "local"]
    credentials: Credentials | None
    auth_scheme: AuthScheme = "JWT"
    bundle_id: str = DEFAULT_BUNDLE_ID
    ambiguous_bundle_id: str | None = None
    secondary_jwt: str | None = field(default=None, repr=False)
    expired_jwt: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    clock_tolerance: float = DEFAULT_CLOCK_TOLERANCE
    production_hosts: tuple[str, ...] = DEFAULT_PRODUCTION_HOSTS
    allow_production_writes: bool = False
    switches: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def is_production(self) -> bool:
        return is_production_host(self.host, self.production_hosts)

    @property
    def writes_refused(self) -> str | None:
        """Why writes are refused on this target, or None when they are allowed."""
        if self.is_production and not self.allow_production_writes:
            return (
                f"{self.host} is a production host: tests that register or delete bindings are refused; "
                "pass --allow-production-writes to run them there"
            )
        return None

    def secrets(self) -> dict[str, str]:
        """Secret values of this configuration, each with the placeholder that stands for it."""
        found: dict[str, str] = {}
        if self.credentials is not None:
            found[self.credentials.secret] = f"<{self.credentials.variable}>"
        if self.secondary_jwt:
            found[self.secondary_jwt] = REPLAY_PLACEHOLDERS["secondary"]
        if self.expired_jwt:
            found[self.expired_jwt] = REPLAY_PLACEHOLDERS["expired"]
        return found

    def describe(self) -> str:
        optional = [
            name
            for name, present in (
                ("secondary user", self.secondary_jwt),
                ("expired token", self.expired_jwt),
                ("ambiguous bundle id", self.ambiguous_bundle_id),
            )
            if present
        ]
        auth = self.credentials.variable if self.credentials else "none"
        parts = [
            f"{self.mode} against {self.url}" + (" (bundled reference deployment)" if self.origin == "local" else ""),
            f"auth {auth} ({self.auth_scheme} scheme)",
            f"bundle id {self.bundle_id}",
            "optional: " + (", ".join(optional) or "none"),
        ]
        if self.switches:
            parts.append("switches: " + ", ".join(self.switches))
        return "; ".join(parts)


def is_test_host(host: str) -> bool:
    labels = host.lower().split(".")
    return any(label in TEST_HOST_LABELS or label.startswith("test-") or label.endswith("-test") for label in labels)


def is_production_host(host: str, patterns: Sequence[str]) -> bool:
    host = host.lower()
    if host in {"localhost", "127.0.0.1", "::1"} or is_test_host(host):
        return False
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in patterns)


def _number(environ: Mapping[str, str], name: str, value: str | float | None, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number of seconds, not {value!r}") from None
    if number <= 0:
        raise ConfigurationError(f"{name} must be positive, not {value!r}")
    return number


def _url(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(
            f"{name} must be an http(s) URL such as https://api.oeus-kraken.systems/v1/graphql/, not {value!r}"
        )
    return value


def build_target(
    environ: Mapping[str, str],
    *,
    mode: Mode,
    url_option: str | None = None,
    origin: Literal["remote", "local"] = "remote",
    timeout: str | float | None = None,
    clock_tolerance: str | float | None = None,
    production_hosts: str | None = None,
    allow_production_writes: bool = False,
    switches: Sequence[str] = (),
) -> Target:
    """A Target from KRAKEN_* variables (for `local`, the reference deployment's own variables)."""
    raw_url = url_option or environ.get("KRAKEN_URL", "")
    if not raw_url:
        raise ConfigurationError(
            "no target: set KRAKEN_URL (or --kraken-url) to the GraphQL endpoint, "
            "or pass --kraken-target=local to run against the bundled reference deployment"
        )
    url = _url(raw_url, "--kraken-url" if url_option else "KRAKEN_URL")
    credentials = next(
        (Credentials(kind, environ[name], name) for name, kind in CREDENTIAL_VARIABLES if environ.get(name)),
        None,
    )
    if credentials is None:
        raise ConfigurationError(
            "no credentials: set KRAKEN_JWT (a Kraken token), KRAKEN_API_KEY or KRAKEN_REFRESH_TOKEN"
        )
    scheme = environ.get("KRAKEN_AUTH_SCHEME", "JWT") or "JWT"
    if scheme not in ("JWT", "bare"):
        raise ConfigurationError(f"KRAKEN_AUTH_SCHEME must be JWT or bare, not {scheme!r}")
    bundle_id = environ.get("KRAKEN_BUNDLE_ID") or DEFAULT_BUNDLE_ID
    hosts = production_hosts if production_hosts is not None else environ.get("KRAKEN_PRODUCTION_HOSTS")
    return Target(
        url=url,
        mode=mode,
        origin=origin,
        credentials=credentials,
        auth_scheme="bare" if scheme == "bare" else "JWT",
        bundle_id=bundle_id,
        ambiguous_bundle_id=environ.get("KRAKEN_AMBIGUOUS_BUNDLE_ID") or None,
        secondary_jwt=environ.get("KRAKEN_SECONDARY_JWT") or None,
        expired_jwt=environ.get("KRAKEN_EXPIRED_JWT") or None,
        timeout=_number(environ, "KRAKEN_TIMEOUT", timeout or environ.get("KRAKEN_TIMEOUT"), DEFAULT_TIMEOUT),
        clock_tolerance=_number(
            environ,
            "KRAKEN_CLOCK_TOLERANCE",
            clock_tolerance or environ.get("KRAKEN_CLOCK_TOLERANCE"),
            DEFAULT_CLOCK_TOLERANCE,
        ),
        production_hosts=tuple(p.strip() for p in hosts.split(",") if p.strip()) if hosts else DEFAULT_PRODUCTION_HOSTS,
        allow_production_writes=allow_production_writes,
        switches=tuple(switches),
    )
