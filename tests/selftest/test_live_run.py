"""A live run as a user runs it: KRAKEN_* variables pointing at a deployment, nothing left behind, writes
refused on production hosts, one-line configuration errors, and no secret in the output."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from kraken_contract.reference import ReferenceConfig, ReferenceDeployment

CONTRACT_TESTS = Path(__file__).resolve().parents[1] / "contract"


@pytest.fixture
def deployment() -> Iterator[ReferenceDeployment]:
    with ReferenceDeployment() as started:
        yield started


@pytest.fixture
def live(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Callable[..., pytest.RunResult]:
    """Run the contract suite live with exactly these KRAKEN_* variables."""

    def run(environ: dict[str, str], *options: str) -> pytest.RunResult:
        for name in [name for name in os.environ if name.startswith("KRAKEN_")]:
            monkeypatch.delenv(name)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return pytester.runpytest_inprocess(str(CONTRACT_TESTS), "--disable-recording", *options)

    return run


def test_live_run_passes_and_leaves_no_binding_behind(
    live: Callable[..., pytest.RunResult], deployment: ReferenceDeployment
) -> None:
    result = live(deployment.environment())
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["target: live against http://127.0.0.1:*", "bindings left on the target: none"])
    assert deployment.store.binding_count() == 0


def obtained_tokens(deployment: ReferenceDeployment) -> dict[str, str]:
    """A Kraken token and a refresh token for the primary user, as obtainKrakenToken hands them out."""
    query = "mutation($input: ObtainJSONWebTokenInput!) { obtainKrakenToken(input: $input) { token refreshToken } }"
    variables = {"input": {"APIKey": deployment.environment()["KRAKEN_API_KEY"]}}
    data = requests.post(deployment.url, json={"query": query, "variables": variables}, timeout=10).json()
    return data["data"]["obtainKrakenToken"]


@pytest.mark.parametrize(("variable", "field"), [("KRAKEN_JWT", "token"), ("KRAKEN_REFRESH_TOKEN", "refreshToken")])
def test_every_kind_of_credential_works(
    live: Callable[..., pytest.RunResult], deployment: ReferenceDeployment, variable: str, field: str
) -> None:
    environ = {k: v for k, v in deployment.environment().items() if k != "KRAKEN_API_KEY"}
    environ[variable] = obtained_tokens(deployment)[field]
    result = live(environ, "--kraken-clause=PNB-USER", "--kraken-clause=PNB-LIFE")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines([f"target: live against * auth {variable} (JWT scheme)*", "*4 passed*"])


def test_writes_on_a_production_host_are_refused(live: Callable[..., pytest.RunResult]) -> None:
    with ReferenceDeployment(ReferenceConfig(host="127.0.0.2")) as production:
        environ = {**production.environment(), "KRAKEN_PRODUCTION_HOSTS": "127.0.0.2"}
        refused = live(
            environ, "--kraken-clause=PNB-LIFE", "--kraken-clause=PNB-HTTP-2", "--kraken-clause=PNB-FUZZ", "-rs"
        )
        assert refused.ret == pytest.ExitCode.OK
        refused.stdout.fnmatch_lines(["*6 skipped*"])
        assert "127.0.0.2 is a production host" in refused.stdout.str()
        assert "--allow-production-writes" in refused.stdout.str()
        allowed = live(environ, "--kraken-clause=PNB-LIFE", "--allow-production-writes")
        allowed.stdout.fnmatch_lines(["*3 passed*"])
        assert production.store.binding_count() == 0
        assert production.store.binding_count() == 0


@pytest.mark.parametrize(
    ("environ", "line"),
    [
        ({}, "ERROR: no target: set KRAKEN_URL (or --kraken-url) to the GraphQL endpoint*"),
        ({"KRAKEN_URL": "http://127.0.0.1:9/v1/graphql/"}, "ERROR: no credentials: set KRAKEN_JWT*"),
        (
            {"KRAKEN_URL": "http://127.0.0.1:9/v1/graphql/", "KRAKEN_JWT": "x", "KRAKEN_AUTH_SCHEME": "Bearer"},
            "ERROR: KRAKEN_AUTH_SCHEME must be JWT or bare, not 'Bearer'",
        ),
        (
            {"KRAKEN_URL": "http://127.0.0.1:9/v1/graphql/", "KRAKEN_JWT": "a-token-value"},
            "ERROR: cannot reach the target at http://127.0.0.1:9/v1/graphql/: [[]Errno 111[]] Connection refused",
        ),
    ],
)
def test_bad_configuration_is_one_usage_line(
    live: Callable[..., pytest.RunResult], environ: dict[str, str], line: str
) -> None:
    result = live(environ)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([line])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_wrong_api_key_is_one_usage_line(
    live: Callable[..., pytest.RunResult], deployment: ReferenceDeployment
) -> None:
    result = live({**deployment.environment(), "KRAKEN_API_KEY": "not-a-key"})
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: could not obtain a Kraken token with KRAKEN_API_KEY: KT-CT-1139 Invalid data."]
    )
    assert "not-a-key" not in result.stderr.str()


def test_failures_and_summary_show_no_secret(live: Callable[..., pytest.RunResult]) -> None:
    with ReferenceDeployment(ReferenceConfig(switches=frozenset({"auth-forged-accepted"}))) as faulty:
        environ = faulty.environment()
        result = live(environ, "--kraken-clause=PNB-AUTH", "-rA", "--showlocals", "--log-level=DEBUG")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "PNB-AUTH-2 [MUST]" in output and "sent: POST" in output and "received: HTTP 200" in output
    for name in ("KRAKEN_API_KEY", "KRAKEN_SECONDARY_JWT", "KRAKEN_EXPIRED_JWT"):
        assert environ[name] not in output, name
    assert not re.search(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ", output)


def test_rate_limited_requests_are_retried_and_counted(live: Callable[..., pytest.RunResult]) -> None:
    with ReferenceDeployment(ReferenceConfig(switches=frozenset({"rate-limited"}))) as limited:
        result = live(limited.environment(), "--kraken-clause=PNB-LIFE")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    retries = re.search(r"retries after KT-CT-1199 or a reset: (\d+)", result.stdout.str())
    assert retries is not None and int(retries[1]) > 0
