"""The conformance report: every clause with its level, statement and result, as Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kraken_contract import __version__
from kraken_contract.clauses import ClauseResult, Verdict
from kraken_contract.redaction import Redactor

REPORT_SCHEMA_VERSION = 1
MARKDOWN_FILE = "report.md"
JSON_FILE = "report.json"
RESULT_LABELS = {
    Verdict.PASS: "pass",
    Verdict.FAIL: "**FAIL**",
    Verdict.WARNING: "warning",
    Verdict.BLOCKED: "blocked",
    Verdict.SKIPPED: "skipped",
    Verdict.NOT_RUN: "not run",
}


@dataclass
class RunFacts:
    """What the report says about the run besides the clauses."""

    target: str
    mode: str
    requests: int
    retries: int
    server_errors: int
    bindings_left: list[str] = field(default_factory=list)
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def totals(results: Sequence[ClauseResult]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for result in results:
        row = table.setdefault(str(result.clause.level), {str(verdict): 0 for verdict in Verdict})
        row[str(result.verdict)] += 1
    return table


def passed(results: Sequence[ClauseResult]) -> bool:
    """The run conforms: no MUST clause failed (warnings, skips and blocks aside, which a failure explains)."""
    return not any(result.verdict is Verdict.FAIL for result in results)


def as_json(results: Sequence[ClauseResult], facts: RunFacts) -> dict[str, Any]:
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "suite": {"name": "kraken-push-contract", "version": __version__},
        "generated_at": facts.finished_at.isoformat(timespec="seconds"),
        "target": facts.target,
        "mode": facts.mode,
        "conforms": passed(results),
        "totals": totals(results),
        "requests": {"sent": facts.requests, "retries": facts.retries, "server_errors": facts.server_errors},
        "bindings_left": facts.bindings_left,
        "clauses": [result.as_dict() for result in results],
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(results: Sequence[ClauseResult], facts: RunFacts) -> str:
    lines = [
        "# Conformance report: registerPushNotificationBinding",
        "",
        f"- Target: {facts.target}",
        f"- Mode: {facts.mode}",
        f"- Finished: {facts.finished_at.isoformat(timespec='seconds')}",
        f"- Suite: kraken-push-contract {__version__}",
        f"- Verdict: **{'conforms' if passed(results) else 'does not conform'}** (a failed MUST clause fails; "
        "SHOULD and MAY failures are warnings)",
        f"- Requests: {facts.requests} sent, {facts.retries} retried, {facts.server_errors} answered with a 5xx",
        f"- Bindings left on the target: {len(facts.bindings_left) or 'none'}",
        "",
        "| Level | " + " | ".join(RESULT_LABELS[verdict].strip("*") for verdict in Verdict) + " |",
        "|---|" + "---|" * len(Verdict),
    ]
    for level, row in totals(results).items():
        lines.append(f"| {level} | " + " | ".join(str(row[str(verdict)]) for verdict in Verdict) + " |")
    lines += ["", "## Clauses", "", "| Clause | Level | Result | Statement |", "|---|---|---|---|"]
    for result in results:
        clause = result.clause
        lines.append(f"| {clause.id} | {clause.level} | {RESULT_LABELS[result.verdict]} | {_cell(clause.statement)} |")
    details = [result for result in results if result.messages or result.skip_reasons or result.notes]
    if details:
        lines += ["", "## Details", ""]
    for result in details:
        lines.append(f"### {result.clause.id}: {RESULT_LABELS[result.verdict].strip('*')}")
        lines.append("")
        lines.append(f"{result.clause.statement} Source: {result.clause.source}")
        lines.append("")
        lines += [f"- {_cell(message)}" for message in dict.fromkeys(result.messages)]
        lines += [f"- skipped: {_cell(reason)}" for reason in sorted(set(result.skip_reasons))]
        lines += [f"- note: {_cell(note)}" for note in result.notes]
        lines.append("")
    if facts.bindings_left:
        lines += ["## Bindings that could not be deleted", ""] + [f"- {line}" for line in facts.bindings_left]
    return "\n".join(lines).rstrip() + "\n"


def write_report(directory: Path, results: Sequence[ClauseResult], facts: RunFacts, redactor: Redactor) -> None:
    """report.md and report.json in `directory`, with every secret the run knows masked."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKDOWN_FILE).write_text(redactor.text(as_markdown(results, facts)), encoding="utf-8")
    document = redactor.value(as_json(results, facts))
    (directory / JSON_FILE).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
