"""The pytest plugin: options, the run's target and clients, fixtures, clause verdicts and the summary."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from gql import Client
from gql.transport.exceptions import TransportError
from hypothesis import HealthCheck, Phase, settings

from kraken_contract import cassettes
from kraken_contract.auth import AuthenticationFailed, authorization_value
from kraken_contract.clauses import ClauseViolation, Ledger, Level, Verdict, catalogue, find_violations
from kraken_contract.client import Connection, Exchange, KrakenAPI, binding_of, connection_problem, is_mutation
from kraken_contract.invariants import ShapeChecker, check_exchange, expect, violated
from kraken_contract.redaction import Redactor
from kraken_contract.report import RunFacts, totals, write_report
from kraken_contract.schema import Introspection, enum_values_of, introspect, pinned_schema
from kraken_contract.strategies import REPLAY_SALT, use_salt
from kraken_contract.target import (
    DEFAULT_CLOCK_TOLERANCE,
    DEFAULT_TIMEOUT,
    ConfigurationError,
    Mode,
    Target,
    build_target,
)

FAST_EXAMPLES = 6
THOROUGH_EXAMPLES = 100
_QUIET_HEALTH_CHECKS = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.filter_too_much,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]
# Derandomized, no database, no deadline, no shrinking: the same examples on every run, so a recording
# replays and a fault is caught on every run alike. `parent=` keeps Hypothesis' own `ci` profile out.
settings.register_profile(
    "kraken-fast",
    parent=settings.get_profile("default"),
    max_examples=FAST_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=_QUIET_HEALTH_CHECKS,
    report_multiple_bugs=False,
    print_blob=False,
)
settings.register_profile(
    "kraken-thorough",
    parent=settings.get_profile("default"),
    max_examples=THOROUGH_EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=_QUIET_HEALTH_CHECKS,
    report_multiple_bugs=False,
    print_blob=False,
)

RUN_KEY = pytest.StashKey["ContractRun"]()
ClauseNote = Callable[[str, str], None]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kraken", "Kraken push-notification-binding contract")
    group.addoption("--kraken-url", help="GraphQL endpoint to check (default: $KRAKEN_URL)")
    group.addoption(
        "--kraken-target",
        choices=["local"],
        help="local: start the bundled reference deployment on a free loopback port and check it",
    )
    group.addoption(
        "--kraken-fault",
        action="append",
        default=[],
        metavar="NAME",
        help="with --kraken-target=local: turn on a fault or conformant-variant switch (repeatable)",
    )
    group.addoption("--kraken-timeout", help="seconds per request (default: $KRAKEN_TIMEOUT or 10)")
    group.addoption(
        "--kraken-clock-tolerance",
        help="seconds registeredAt may differ from the server clock (default: $KRAKEN_CLOCK_TOLERANCE or 120)",
    )
    group.addoption(
        "--kraken-production-hosts",
        help="comma-separated host patterns treated as production (default: $KRAKEN_PRODUCTION_HOSTS or "
        "api.octopus.energy,api.*-kraken.energy,api.*.kraken.tech)",
    )
    group.addoption(
        "--allow-production-writes",
        action="store_true",
        default=False,
        help="let tests register and delete bindings on a production host",
    )
    group.addoption(
        "--kraken-clause",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests of this clause (repeatable; a prefix such as PNB-TIME selects a group)",
    )
    group.addoption(
        "--conformance-report",
        metavar="DIR",
        help="write report.md and report.json (every clause with its result) into DIR",
    )
    group.addoption(
        "--kraken-cassette-dir",
        help="where cassettes are recorded and replayed from (default: cassettes/ under the rootdir)",
    )
    group.addoption(
        "--kraken-profile",
        choices=["fast", "thorough"],
        default=os.environ.get("KRAKEN_PROFILE", "fast"),
        help="fast (default): few derandomized examples; thorough: 100 random examples per property (live only)",
    )


def run_mode(config: pytest.Config) -> Mode:
    if config.getoption("--disable-recording", default=False):
        return "live"
    record_mode = config.getoption("--record-mode", default=None) or "none"
    return "replay" if record_mode == "none" else "record"


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): the contract clause(s) this test verifies")
    run = ContractRun(config)
    config.stash[RUN_KEY] = run
    profile = "kraken-thorough" if run.mode == "live" and run.profile == "thorough" else "kraken-fast"
    if run.mode != "live" or not config.getoption("--hypothesis-profile", default=None):
        settings.load_profile(profile)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is not None:
        run.stop()


def clauses_of(item: pytest.Item) -> list[str]:
    return [cid for mark in item.iter_markers("clause") for cid in mark.args]


def selects(prefix: str, clause_id: str) -> bool:
    """`--kraken-clause PNB-TIME` selects PNB-TIME-1..4; `PNB-TIME-1` only that clause."""
    return clause_id == prefix or clause_id.startswith(prefix + "-")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    known = catalogue()
    wanted = [prefix.upper() for prefix in config.getoption("--kraken-clause")]
    for prefix in wanted:
        if not any(selects(prefix, cid) for cid in known):
            raise pytest.UsageError(f"--kraken-clause {prefix}: no clause has that ID or prefix (see clauses.toml)")
    selected, deselected = [], []
    for item in items:
        ids = clauses_of(item)
        for cid in ids:
            if cid not in known:
                raise pytest.UsageError(f"{item.nodeid}: unknown clause {cid!r} (not in clauses.toml)")
        if wanted and ids and not any(selects(prefix, cid) for cid in ids for prefix in wanted):
            deselected.append(item)
            continue
        if ids:
            item.add_marker(pytest.mark.vcr)
        selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    if any(clauses_of(item) for item in items) and not config.option.collectonly:
        run = config.stash[RUN_KEY]
        try:
            run.start()
        except (ConfigurationError, AuthenticationFailed, cassettes.RecordingMismatch) as error:
            raise pytest.UsageError(str(error)) from None
        except (requests.RequestException, TransportError) as error:
            url = run.ready_target.url
            raise pytest.UsageError(f"cannot reach the target at {url}: {connection_problem(error)}") from None


class ContractRun:
    """State of one run: the target, its HTTP session and clients, the bindings registered, the verdicts."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.mode = run_mode(config)
        self.profile: str = config.getoption("--kraken-profile", default="fast")
        self.redactor = Redactor()
        self.ledger = Ledger()
        self.target: Target | None = None
        self._connection: Connection | None = None
        self.deployment: Any = None
        self.salt = REPLAY_SALT
        self.scrubber = cassettes.Scrubber(self.redactor)
        self.cassette_dir = Path(config.getoption("--kraken-cassette-dir") or config.rootpath / "cassettes")
        self.current_test = "(session setup)"
        self.introspection = Introspection(None, "the run has not started")
        self.shapes = ShapeChecker(pinned_schema())
        self.deferred: list[ClauseViolation] = []

    # ------------------------------------------------------------------ setup
    def start(self) -> None:
        if self.target is not None:
            return
        target = self._replayed_target() if self.mode == "replay" else self._build_target()
        self.target = target
        self.scrubber.mask_personal_data = target.origin != "local"
        self._connection = connection = Connection(
            target,
            self.redactor,
            replay=self.mode == "replay",
            sleep=self._sleep,
            check=self.check,
            write_guard=self.refuse_writes_on_production,
        )
        if self.mode == "replay":
            connection.http.send_wrappers.append(self._explain_drift)
        else:
            connection.token_source("primary").token()  # fail fast, with one line, on bad credentials
        if self.mode == "live":
            self.salt = os.urandom(4).hex()
        use_salt(self.salt)
        if self.mode == "record" and self.scrubber.mask_personal_data:
            self._remember_people()
        with self.session_cassette("introspection"):
            self.introspection = introspect(connection.setup_api("primary"))
        self.shapes = ShapeChecker(pinned_schema(), enum_values_of(self.introspection.schema))

    def _replayed_target(self) -> Target:
        option = self.config.getoption
        description = cassettes.read_recording(self.cassette_dir)
        timeout = float(option("--kraken-timeout") or DEFAULT_TIMEOUT)
        tolerance = float(option("--kraken-clock-tolerance") or DEFAULT_CLOCK_TOLERANCE)
        return cassettes.replay_target(description, timeout, tolerance)

    def _remember_people(self) -> None:
        """Learn the account users' names before anything is recorded, so cassettes call them by role."""
        for role in ("primary", "secondary"):
            if role == "secondary" and not self.ready_target.secondary_jwt:
                continue
            viewer = self.connection.setup_api(role).viewer().field("viewer")
            if isinstance(viewer, dict):
                self.scrubber.remember_person(role, viewer)

    def _explain_drift(self, send: Callable[[], Any]) -> Any:
        from vcr.errors import CannotOverwriteExistingCassetteException

        try:
            return send()
        except CannotOverwriteExistingCassetteException as error:
            drift = cassettes.drift_message(self.current_test, error.cassette, error.failed_request, error.reason)
        pytest.fail(drift, pytrace=False)

    def session_cassette(self, name: str) -> AbstractContextManager[Any]:
        """Requests of session-scoped fixtures are recorded once, in cassettes/_session/<name>.yaml."""
        if self.mode == "live":
            return nullcontext()
        record_mode = self.config.getoption("--record-mode", default=None) or "none"
        return cassettes.session_cassette(self.cassette_dir, name, record_mode, self.scrubber)

    def _sleep(self, seconds: float) -> None:
        if self.mode != "replay":
            time.sleep(seconds)

    def _build_target(self) -> Target:
        option = self.config.getoption
        faults = option("--kraken-fault")
        local = option("--kraken-target") == "local"
        if faults and not local:
            raise ConfigurationError("--kraken-fault needs --kraken-target=local (switches exist only there)")
        environ: dict[str, str] = dict(os.environ)
        if local:
            environ = self._start_reference_deployment(faults)
        return build_target(
            environ,
            mode=self.mode,
            url_option=None if local else option("--kraken-url"),
            origin="local" if local else "remote",
            timeout=option("--kraken-timeout"),
            clock_tolerance=option("--kraken-clock-tolerance"),
            production_hosts=option("--kraken-production-hosts"),
            allow_production_writes=option("--allow-production-writes"),
            switches=faults,
        )

    def _start_reference_deployment(self, switches: list[str]) -> dict[str, str]:
        from kraken_contract.reference import ReferenceConfig, ReferenceDeployment, UnknownSwitch

        try:
            deployment = ReferenceDeployment(ReferenceConfig(switches=frozenset(switches)))
        except UnknownSwitch as error:
            raise ConfigurationError(str(error)) from None
        self.deployment = deployment.start()
        kept = {k: v for k, v in os.environ.items() if k in ("KRAKEN_TIMEOUT", "KRAKEN_CLOCK_TOLERANCE")}
        return {**kept, **deployment.environment()}

    def stop(self) -> None:
        if self.deployment is not None:
            self.deployment.stop()
            self.deployment = None

    # ------------------------------------------------------------------ clients
    @property
    def ready_target(self) -> Target:
        if self.target is None:
            raise RuntimeError("the contract run has not started: no contract test was collected")
        return self.target

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the contract run has not started: no contract test was collected")
        return self._connection

    def check(self, exchange: Exchange, valid_request: bool) -> None:
        if exchange.rate_limited:
            raise RuntimeError(
                f"the target still answered KT-CT-1199 (too many requests) after {exchange.attempt} attempts"
            )
        check_exchange(exchange, valid_request)
        if not exchange.errors:
            for clause_id, problem in self.shapes.problems(exchange.query, exchange.data):
                self.deferred.append(violated(clause_id, problem, exchange))

    def facts(self) -> RunFacts:
        stats = self.connection.http.stats
        return RunFacts(
            target=self.ready_target.describe(),
            mode=self.mode,
            requests=stats.requests,
            retries=stats.retries,
            server_errors=sum(count for status, count in stats.statuses.items() if status >= 500),
            bindings_left=list(self.connection.undeleted),
        )

    def take_deferred(self) -> list[ClauseViolation]:
        deferred, self.deferred = self.deferred, []
        return deferred

    def refuse_writes_on_production(self) -> None:
        refused = self.ready_target.writes_refused
        if refused:
            pytest.skip(refused)


# ---------------------------------------------------------------------- per-test behaviour
def pytest_runtest_setup(item: pytest.Item) -> None:
    ids = clauses_of(item)
    if not ids:
        return
    target = item.config.stash[RUN_KEY].ready_target
    for cid in ids:
        item.user_properties.append(("clause", f"{cid} {catalogue()[cid].level}"))
        requires = catalogue()[cid].requires
        if requires and requires.startswith("KRAKEN_"):
            attribute = requires.removeprefix("KRAKEN_").lower()
            if not getattr(target, attribute, None):
                pytest.skip(f"{cid} needs {requires}: set it to enable this clause")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = item.config.stash.get(RUN_KEY, None)
    ids = clauses_of(item)
    if run is None or not ids:
        return report
    if report.when == "call" or report.outcome != "passed":
        _record_verdict(run, item, ids, call, report)
    _fail_on_deferred(run, item, report)
    _redact_report(report, run.redactor)
    return report


def _redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    if report.longrepr is not None:
        text = str(report.longrepr)
        redacted = redactor.text(text)
        if redacted != text:
            report.longrepr = redacted
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


def _record_verdict(
    run: ContractRun,
    item: pytest.Item,
    ids: list[str],
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
) -> None:
    if report.outcome == "passed":
        run.ledger.record(item.nodeid, ids, "passed")
        return
    if report.outcome == "skipped":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        run.ledger.record(item.nodeid, ids, "skipped", skip_reason=reason.removeprefix("Skipped: "))
        return
    violations = find_violations(call.excinfo.value if call.excinfo else None)
    if not violations:
        message = run.redactor.text(str(call.excinfo.value) if call.excinfo else str(report.longrepr))
        run.ledger.record(item.nodeid, ids, "failed", message=message.splitlines()[0] if message else "")
        return
    violation = violations[0]
    notes = getattr(call.excinfo.value, "__notes__", []) if call.excinfo else []
    text = run.redactor.text("\n".join([str(violation), *notes]))
    run.ledger.record(item.nodeid, ids, "failed", violations=violations)
    report.longrepr = text
    if violation.clause.level is not Level.MUST and report.when == "call":
        report.outcome = "skipped"
        report.wasxfail = f"{violation.clause.level} clause not met (warning): {text}"


def _fail_on_deferred(run: ContractRun, item: pytest.Item, report: pytest.TestReport) -> None:
    """Response-shape violations seen during this phase: charged to their clauses, and they fail a test
    that otherwise passed (they never pre-empt the clause the test is about)."""
    deferred = run.take_deferred()
    for violation in deferred:
        run.ledger.charge(item.nodeid, violation)
    if deferred and report.outcome != "failed":
        more = f"\n(and {len(deferred) - 1} more response-shape violations in this test)" if len(deferred) > 1 else ""
        report.outcome = "failed"
        report.longrepr = str(deferred[0]) + more
        if hasattr(report, "wasxfail"):
            del report.wasxfail


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def contract_run(pytestconfig: pytest.Config) -> ContractRun:
    run = pytestconfig.stash[RUN_KEY]
    run.ready_target  # noqa: B018 - fails clearly outside a contract run
    return run


@pytest.fixture(scope="session")
def target(contract_run: ContractRun) -> Target:
    return contract_run.ready_target


@pytest.fixture(scope="session")
def kraken_api(contract_run: ContractRun) -> KrakenAPI:
    return contract_run.connection.api("primary")


@pytest.fixture(scope="session")
def kraken_client(kraken_api: KrakenAPI) -> Client:
    """A gql Client on the requests transport, authenticated as the primary account user."""
    return kraken_api.client


@pytest.fixture(scope="session")
def anonymous_api(contract_run: ContractRun) -> KrakenAPI:
    return contract_run.connection.api("anonymous")


@pytest.fixture(scope="session")
def anonymous_client(anonymous_api: KrakenAPI) -> Client:
    return anonymous_api.client


@pytest.fixture(scope="session")
def secondary_api(contract_run: ContractRun, target: Target) -> KrakenAPI:
    if not target.secondary_jwt and contract_run.mode != "replay":
        pytest.skip("needs KRAKEN_SECONDARY_JWT (a token of a second account user)")
    return contract_run.connection.api("secondary")


@pytest.fixture(scope="session")
def secondary_client(secondary_api: KrakenAPI) -> Client:
    return secondary_api.client


@pytest.fixture(scope="session")
def expired_api(contract_run: ContractRun, target: Target) -> KrakenAPI:
    if not target.expired_jwt and contract_run.mode != "replay":
        pytest.skip("needs KRAKEN_EXPIRED_JWT (an expired token of the primary account user)")
    return contract_run.connection.api("expired")


@pytest.fixture
def api_with_authorization(contract_run: ContractRun) -> Callable[[str], KrakenAPI]:
    return contract_run.connection.api_with_authorization


@pytest.fixture(scope="session")
def primary_token(contract_run: ContractRun) -> str:
    """The primary user's current token (for header-scheme clauses); never printed."""
    return contract_run.connection.token_source("primary").token()


@dataclass(frozen=True)
class Person:
    givenName: str
    familyName: str

    @classmethod
    def of(cls, user: Any) -> Person | None:
        if isinstance(user, dict):
            return cls(user.get("givenName"), user.get("familyName"))  # type: ignore[arg-type]
        return None


def _viewer_of(api: KrakenAPI) -> Person:
    exchange = api.viewer()
    person = Person.of(exchange.field("viewer"))
    if person is None or exchange.errors:
        raise RuntimeError(f"the viewer query failed, so the account user is unknown:\n{exchange.describe()}")
    return person


@pytest.fixture(scope="session")
def viewer(contract_run: ContractRun, kraken_api: KrakenAPI) -> Person:
    """givenName and familyName of the primary account user, from the `viewer` query."""
    with contract_run.session_cassette("viewer"):
        return _viewer_of(kraken_api)


@pytest.fixture(scope="session")
def secondary_viewer(contract_run: ContractRun, secondary_api: KrakenAPI) -> Person:
    with contract_run.session_cassette("secondary_viewer"):
        return _viewer_of(secondary_api)


@pytest.fixture(scope="session")
def response_shape(contract_run: ContractRun) -> ShapeChecker:
    """Checks a response against its request's selection set and the pinned schema (PNB-SHAPE-*)."""
    return contract_run.shapes


@pytest.fixture(scope="session")
def target_introspection(contract_run: ContractRun) -> Introspection:
    """The target's schema (or why there is none), read once when the run starts."""
    return contract_run.introspection


@pytest.fixture
def raw_graphql(contract_run: ContractRun) -> Callable[..., Exchange]:
    """Send a raw request (any method, body or headers) and get status, headers and JSON back."""
    target = contract_run.ready_target

    def send(
        body: Any = None,
        *,
        content: bytes | None = None,
        method: str = "POST",
        params: dict[str, str] | None = None,
        identity: str | None = "primary",
        valid: bool = True,
        checked: bool = True,
    ) -> Exchange:
        """`body` is sent as JSON, `content` as raw bytes; `identity` None sends no Authorization header;
        `checked` applies the every-response clauses (no 5xx, JSON, error shape when `valid`)."""
        query = (body or params or {}).get("query") if isinstance(body or params, dict) else None
        if content is not None or is_mutation(query):
            contract_run.refuse_writes_on_production()  # a raw mutation may write, whatever it looks like
        http = contract_run.connection.http
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if identity is not None:
            token = contract_run.connection.token_source(identity).token()
            headers["Authorization"] = authorization_value(token, target.auth_scheme)
        http.request(method, target.url, json=body, data=content, params=params, headers=headers)
        exchange = http.last_exchange
        assert exchange is not None
        if checked:
            contract_run.check(exchange, valid)
        return exchange

    return send


@dataclass(frozen=True)
class Registration:
    exchange: Exchange
    binding: dict[str, Any]
    token: str


RegisterBinding = Callable[..., Registration]


@pytest.fixture
def binding(kraken_api: KrakenAPI, target: Target) -> RegisterBinding:
    """Register a binding that must succeed; every binding a test registers is deleted at its teardown."""

    def register(token: str, bundle_id: str | None = None, **options: Any) -> Registration:
        exchange = kraken_api.register(token, bundle_id or target.bundle_id, **options)
        registered = binding_of(exchange)
        expect(registered is not None, "PNB-REG-1", "the registration returned no binding", exchange)
        expect(not exchange.errors, "PNB-ERR-3", "the registration succeeded but carries `errors`", exchange)
        assert registered is not None
        return Registration(exchange, registered, token)

    return register


@pytest.fixture(scope="session")
def clause_note(contract_run: ContractRun) -> ClauseNote:
    """Report something about a clause without failing it (e.g. extra enum values seen)."""
    return contract_run.ledger.note


@pytest.fixture(autouse=True)
def _contract_test_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """Deletes what the test registered; the deletions land in the test's cassette with the rest."""
    if not clauses_of(request.node):
        yield
        return
    request.getfixturevalue("vcr")
    run = request.config.stash[RUN_KEY]
    run.current_test = request.node.nodeid
    since = len(run.connection.registered)
    yield
    run.connection.delete_registered(since)
    run.current_test = "(session teardown)"


def vcr_options(config: pytest.Config) -> dict[str, Any]:
    """pytest-recording's `vcr_config` for contract tests (the repository's conftest.py installs it)."""
    run = config.stash.get(RUN_KEY, None)
    return cassettes.vcr_options(run.scrubber) if run is not None else {}


def cassette_directory(request: pytest.FixtureRequest) -> str:
    """pytest-recording's `vcr_cassette_dir`: cassettes/<test module>/ (installed by conftest.py)."""
    run = request.config.stash.get(RUN_KEY, None)
    directory = run.cassette_dir if run is not None else request.config.rootpath / "cassettes"
    return str(directory / Path(str(request.node.path)).stem)


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    cassettes.configure_vcr(vcr)


# ---------------------------------------------------------------------- end of run
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = session.config.stash.get(RUN_KEY, None)
    if run is None or run.target is None:
        return
    if run.mode != "replay" and run.connection.registered:
        run.connection.delete_registered()
    if run.mode == "record" and session.testscollected:
        cassettes.write_recording(run.cassette_dir, run.target)
    directory = session.config.getoption("--conformance-report")
    if directory:
        write_report(Path(directory), run.ledger.results(), run.facts(), run.redactor)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None or run.target is None:
        return
    write = terminalreporter.write_line
    results = run.ledger.results()
    facts = run.facts()
    terminalreporter.write_sep("=", f"kraken contract: {len(results)} clauses")
    write(f"target: {facts.target}")
    for level, row in totals(results).items():
        write(f"  {level:<6} " + ", ".join(f"{count} {verdict}" for verdict, count in row.items() if count))
    for verdict, label in ((Verdict.FAIL, "FAILED"), (Verdict.WARNING, "WARNING"), (Verdict.BLOCKED, "BLOCKED")):
        for result in results:
            if result.verdict is verdict:
                write(f"  {label} {result.clause.id} [{result.clause.level}] {result.clause.statement}")
                if result.messages:
                    write(f"      {result.messages[0].splitlines()[0]}")
    for result in results:
        if result.verdict is Verdict.SKIPPED:
            write(f"  skipped {result.clause.id}: {'; '.join(sorted(set(result.skip_reasons)))}")
        for note in result.notes:
            write(f"  note {result.clause.id}: {note}")
    write(
        f"requests: {facts.requests} (retries after KT-CT-1199 or a reset: {facts.retries}); "
        f"5xx responses: {facts.server_errors}"
    )
    if run.mode != "replay":
        write("bindings left on the target: " + (f"{len(facts.bindings_left)}" if facts.bindings_left else "none"))
        for line in facts.bindings_left:
            write(f"  could not delete {line}")
    directory = config.getoption("--conformance-report")
    if directory:
        write(f"conformance report: {Path(directory) / 'report.md'} and report.json")
