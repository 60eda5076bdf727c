"""Target configuration: KRAKEN_* variables, one-line errors, and the production guard."""

from __future__ import annotations

import pytest

from kraken_contract.target import ConfigurationError, build_target, is_production_host

BASE = {"KRAKEN_URL": "https://api.oeus-kraken.systems/v1/graphql/", "KRAKEN_JWT": "jwt-value"}


def test_defaults_follow_the_docs() -> None:
    target = build_target(BASE, mode="live")
    assert target.auth_scheme == "JWT"
    assert target.bundle_id == "test.app.bundle.id"
    assert target.timeout == 10
    assert target.clock_tolerance == 120
    assert target.credentials is not None and target.credentials.kind == "jwt"


def test_first_credential_set_wins() -> None:
    environ = {"KRAKEN_URL": BASE["KRAKEN_URL"], "KRAKEN_API_KEY": "key", "KRAKEN_REFRESH_TOKEN": "refresh"}
    target = build_target(environ, mode="live")
    assert target.credentials is not None and target.credentials.variable == "KRAKEN_API_KEY"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KRAKEN_JWT": "x"}, "no target: set KRAKEN_URL"),
        ({"KRAKEN_URL": "api.octopus.energy/v1/graphql/", "KRAKEN_JWT": "x"}, "KRAKEN_URL must be an http"),
        ({"KRAKEN_URL": BASE["KRAKEN_URL"]}, "no credentials: set KRAKEN_JWT"),
        ({**BASE, "KRAKEN_AUTH_SCHEME": "Bearer"}, "KRAKEN_AUTH_SCHEME must be JWT or bare"),
        ({**BASE, "KRAKEN_TIMEOUT": "soon"}, "KRAKEN_TIMEOUT must be a number"),
        ({**BASE, "KRAKEN_CLOCK_TOLERANCE": "-5"}, "KRAKEN_CLOCK_TOLERANCE must be positive"),
    ],
)
def test_bad_configuration_is_one_clear_line(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        build_target(environ, mode="live")
    assert "\n" not in str(raised.value)


def test_secrets_never_appear_in_repr() -> None:
    target = build_target({**BASE, "KRAKEN_SECONDARY_JWT": "second-secret"}, mode="live")
    assert "jwt-value" not in repr(target)
    assert "second-secret" not in repr(target)
    assert "jwt-value" not in target.describe()


@pytest.mark.parametrize(
    ("host", "production"),
    [
        ("api.octopus.energy", True),
        ("api.oeus-kraken.energy", True),
        ("api.oeg-kraken.energy", True),
        ("api.st.kraken.tech", True),
        ("api.oeus-kraken.systems", False),
        ("api.st.test-kraken.tech", False),
        ("api.test.kraken.tech", False),
        ("127.0.0.1", False),
        ("localhost", False),
    ],
)
def test_production_hosts(host: str, production: bool) -> None:
    assert is_production_host(host, ("api.octopus.energy", "api.*-kraken.energy", "api.*.kraken.tech")) is production


def test_writes_to_production_are_refused_unless_allowed() -> None:
    environ = {**BASE, "KRAKEN_URL": "https://api.octopus.energy/v1/graphql/"}
    refused = build_target(environ, mode="live").writes_refused
    assert refused is not None and "api.octopus.energy" in refused and "--allow-production-writes" in refused
    assert build_target(environ, mode="live", allow_production_writes=True).writes_refused is None


def test_production_host_list_is_configurable() -> None:
    environ = {**BASE, "KRAKEN_PRODUCTION_HOSTS": "*.oeus-kraken.systems"}
    assert build_target(environ, mode="live").is_production
