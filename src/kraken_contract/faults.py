"""The fault-detection matrix: the contract suite (and Schemathesis alone, as a baseline) against the reference
deployment with every fault and every conformant variant switched on in turn, in parallel."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kraken_contract import __version__
from kraken_contract.reference import SWITCHES, ReferenceConfig, ReferenceDeployment, Switch
from kraken_contract.report import JSON_FILE

DEFAULT_OUT = Path("docs/fault-detection.md")
DEFAULT_TESTS = Path("tests/contract")
SCHEMATHESIS_EXAMPLES = 20
SUITE_TIMEOUT = 600
# Schemathesis with its default checks, and without the server-error check that calls every documented
# KT-CT error a "GraphQL server error".
SCHEMATHESIS_COLUMNS = {
    "default checks": [],
    "without not_a_server_error": ["--exclude-checks", "not_a_server_error"],
}


@dataclass
class SuiteRun:
    exit_code: int
    failed: list[str]
    warnings: list[str]
    seconds: float
    problem: str = ""


@dataclass
class Row:
    switch: Switch
    suite: SuiteRun
    schemathesis: dict[str, bool | None] = field(default_factory=dict)  # column -> flagged (None: not run)

    @property
    def flagged(self) -> bool:
        """A fault is caught by a failed MUST clause; a conformant variant is flagged by any unsuccessful run."""
        if self.switch.kind == "fault":
            return bool(self.suite.failed)
        return self.suite.exit_code != 0 or bool(self.suite.failed)

    @property
    def verdict(self) -> str:
        return verdict(self.switch.kind, self.flagged)

    @property
    def expected_caught(self) -> bool:
        return set(self.switch.expected_clauses) <= set(self.suite.failed)


def verdict(kind: str, flagged: bool) -> str:
    if kind == "fault":
        return "caught" if flagged else "missed"
    return "false alarm" if flagged else "passed"


def run_suite(switches: Sequence[str], tests: Path, workdir: Path) -> SuiteRun:
    """The contract suite, live, against a reference deployment with these switches."""
    report = workdir / ("+".join(switches) or "unmodified")
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(tests),
        "--kraken-target=local",
        "--disable-recording",
        f"--conformance-report={report}",
        "-q",
        "-p",
        "no:cacheprovider",
        *(f"--kraken-fault={name}" for name in switches),
    ]
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=SUITE_TIMEOUT, check=False)
    seconds = time.monotonic() - started
    try:
        clauses = json.loads((report / JSON_FILE).read_text(encoding="utf-8"))["clauses"]
    except (OSError, ValueError, KeyError):
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
        return SuiteRun(completed.returncode, [], [], seconds, problem=f"no report: {tail[0]}")
    failed = [clause["id"] for clause in clauses if clause["result"] == "fail"]
    warnings = [clause["id"] for clause in clauses if clause["result"] == "warning"]
    return SuiteRun(completed.returncode, failed, warnings, seconds)


def run_schemathesis(switch: str, extra: Sequence[str]) -> bool:
    """`st run` against a deployment with the switch on; True when Schemathesis reports a failure."""
    with ReferenceDeployment(ReferenceConfig(switches=frozenset({switch}))) as deployment:
        environment = deployment.environment()
        token = environment["KRAKEN_SECONDARY_JWT"]
        header = token if environment["KRAKEN_AUTH_SCHEME"] == "bare" else f"JWT {token}"
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            deployment.url,
            "-H",
            f"Authorization: {header}",
            "--max-examples",
            str(SCHEMATHESIS_EXAMPLES),
            "--generation-deterministic",
            "--no-color",
            *extra,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=SUITE_TIMEOUT, check=False)
    return completed.returncode != 0


def build_matrix(
    switches: Sequence[Switch], tests: Path, jobs: int, with_schemathesis: bool, workdir: Path
) -> list[Row]:
    def one(switch: Switch) -> Row:
        row = Row(switch, run_suite([switch.name], tests, workdir))
        if with_schemathesis:
            row.schemathesis = {
                name: run_schemathesis(switch.name, extra) for name, extra in SCHEMATHESIS_COLUMNS.items()
            }
        return row

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, switches))


def repeat_unmodified(times: int, tests: Path, jobs: int, workdir: Path) -> list[SuiteRun]:
    """The suite against the unmodified reference deployment, `times` times: a flakiness measurement."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda index: run_suite([], tests, workdir / f"repeat-{index}"), range(times)))


# ---------------------------------------------------------------------------- the document
def _count(rows: Sequence[Row], kind: str, flagged: Callable[[Row], bool | None]) -> tuple[int, int]:
    relevant = [row for row in rows if row.switch.kind == kind]
    return sum(1 for row in relevant if flagged(row)), len(relevant)


def _schemathesis_flag(name: str) -> Callable[[Row], bool | None]:
    return lambda row: row.schemathesis.get(name)


def totals_table(rows: Sequence[Row]) -> list[str]:
    columns: dict[str, Callable[[Row], bool | None]] = {"the contract suite": lambda row: row.flagged}
    if rows and rows[0].schemathesis:
        for name in SCHEMATHESIS_COLUMNS:
            columns[f"Schemathesis alone ({name})"] = _schemathesis_flag(name)
    lines = ["| | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    cells: dict[str, list[str]] = {
        "Faults caught": [],
        "Faults missed": [],
        "Conformant variants passed": [],
        "False alarms": [],
    }
    for flagged in columns.values():
        caught, faults = _count(rows, "fault", flagged)
        alarms, conformant = _count(rows, "conformant", flagged)
        cells["Faults caught"].append(f"{caught}/{faults}")
        cells["Faults missed"].append(str(faults - caught))
        cells["Conformant variants passed"].append(f"{conformant - alarms}/{conformant}")
        cells["False alarms"].append(str(alarms))
    lines += [f"| {label} | " + " | ".join(values) + " |" for label, values in cells.items()]
    return lines


def _flag(flagged: bool | None, kind: str) -> str:
    return "not run" if flagged is None else verdict(kind, flagged)


def render(rows: Sequence[Row], repeats: Sequence[SuiteRun], seconds: float, jobs: int) -> str:
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [
        "# Fault-detection matrix",
        "",
        f"Generated by `kraken-contract faults` (`tox -e faults`) on {generated}, kraken-push-contract {__version__}: "
        f"{len(rows)} reference-deployment switches, {jobs} in parallel, {seconds:.0f} s in all. "
        "Do not edit by hand: run it again.",
        "",
        "Each row starts the bundled reference deployment with one switch on and runs the contract suite live "
        "against it (`pytest tests/contract --kraken-target=local --disable-recording --kraken-fault=NAME`). "
        "A **fault** is *caught* when at least one MUST clause fails, *missed* otherwise; a **conformant** "
        "variant *passes* when no MUST clause fails (SHOULD warnings are listed, they do not fail a run), and "
        "is a *false alarm* otherwise. The Schemathesis columns run `st run URL` against the same deployment "
        f"({SCHEMATHESIS_EXAMPLES} examples per operation, deterministic) and count any reported failure.",
        "",
        "## Totals",
        "",
        *totals_table(rows),
        "",
        "## Matrix",
        "",
    ]
    header = [
        "Switch",
        "Kind",
        "Group",
        "What it does",
        "MUST clauses failed",
        "SHOULD warnings",
        "Suite",
        "Expected clause failed",
    ]
    has_schemathesis = bool(rows and rows[0].schemathesis)
    if has_schemathesis:
        header += [f"Schemathesis ({name})" for name in SCHEMATHESIS_COLUMNS]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        switch = row.switch
        expected = ("yes" if row.expected_caught else "no") if switch.kind == "fault" else "n/a"
        failed = ", ".join(row.suite.failed) or row.suite.problem or "none"
        cells = [
            f"`{switch.name}`",
            switch.kind,
            switch.group,
            switch.description.replace("|", "\\|"),
            failed,
            ", ".join(row.suite.warnings) or "none",
            f"**{row.verdict}**" if row.verdict in ("missed", "false alarm") else row.verdict,
            expected,
        ]
        if has_schemathesis:
            cells += [_flag(row.schemathesis.get(name), switch.kind) for name in SCHEMATHESIS_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    if repeats:
        failing = [run for run in repeats if run.exit_code != 0]
        durations = [run.seconds for run in repeats]
        lines += [
            "",
            "## Flakiness",
            "",
            f"The suite against the unmodified reference deployment {len(repeats)} times: "
            f"{len(repeats) - len(failing)} passed, {len(failing)} failed "
            f"(wall time per run: min {min(durations):.1f} s, median {statistics.median(durations):.1f} s, "
            f"max {max(durations):.1f} s).",
        ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- command line
def faults_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kraken-contract faults",
        description="Run the contract suite against every fault and conformant variant of the reference deployment.",
    )
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="only these switches (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="runs in parallel (default: CPU count)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the Markdown matrix (default {DEFAULT_OUT})")
    parser.add_argument(
        "--tests", type=Path, default=DEFAULT_TESTS, help=f"the contract tests (default {DEFAULT_TESTS})"
    )
    parser.add_argument("--no-schemathesis", action="store_true", help="skip the Schemathesis baseline columns")
    parser.add_argument("--repeat", type=int, default=10, help="runs against the unmodified deployment (default 10)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.only if name not in SWITCHES]
    if unknown:
        print(
            f"kraken-contract faults: unknown switch {unknown[0]!r} (see kraken-contract serve --list-faults)",
            file=sys.stderr,
        )
        return 2
    if not args.tests.is_dir():
        print(
            f"kraken-contract faults: no contract tests at {args.tests} (run it from the repository, or pass --tests)",
            file=sys.stderr,
        )
        return 2
    switches = [SWITCHES[name] for name in args.only] if args.only else list(SWITCHES.values())
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kraken-faults-") as scratch:
        workdir = Path(scratch)
        rows = build_matrix(switches, args.tests, args.jobs, not args.no_schemathesis, workdir)
        repeats = repeat_unmodified(args.repeat, args.tests, args.jobs, workdir)
    seconds = time.monotonic() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(rows, repeats, seconds, args.jobs), encoding="utf-8")
    bad = [row for row in rows if row.verdict in ("missed", "false alarm")]
    flaky = [run for run in repeats if run.exit_code != 0]
    for row in bad:
        why = row.suite.problem or ", ".join(row.suite.failed) or "no MUST clause failed"
        print(f"{row.verdict}: {row.switch.name} ({why})")
    counts = {name: sum(row.verdict == name for row in rows) for name in ("caught", "missed", "passed", "false alarm")}
    print(
        f"{len(rows)} switches in {seconds:.0f} s: "
        + ", ".join(f"{n} {name}" for name, n in counts.items())
        + f"; unmodified x{len(repeats)}: {len(repeats) - len(flaky)} passed; matrix in {args.out}"
    )
    return 1 if bad or flaky else 0
