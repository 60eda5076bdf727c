"""The clause catalogue (data in clauses.toml), clause violations, and the per-clause verdicts of a run."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from kraken_contract.resources import package_data


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @property
    def fails_run(self) -> bool:
        return self is Level.MUST


@dataclass(frozen=True)
class Clause:
    id: str
    level: Level
    group: str
    statement: str
    source: str
    requires: str | None = None

    def headline(self) -> str:
        return f"{self.id} [{self.level}] {self.statement}"


@cache
def catalogue() -> Mapping[str, Clause]:
    """Every clause of the contract, by ID, in catalogue order."""
    data = tomllib.loads(package_data("clauses.toml").read_text(encoding="utf-8"))
    sources: dict[str, str] = data["sources"]
    clauses: dict[str, Clause] = {}
    for entry in data["clause"]:
        clause = Clause(
            id=entry["id"],
            level=Level(entry["level"]),
            group=entry["group"],
            statement=entry["statement"],
            source=sources.get(entry["source"], entry["source"]),
            requires=entry.get("requires"),
        )
        if clause.id in clauses:
            raise ValueError(f"clauses.toml: clause {clause.id} is defined twice")
        clauses[clause.id] = clause
    return clauses


def clause(clause_id: str) -> Clause:
    try:
        return catalogue()[clause_id]
    except KeyError:
        raise KeyError(f"unknown clause {clause_id!r}: not in clauses.toml") from None


class ClauseViolation(AssertionError):
    """A contract clause broke. The message says which clause, what was sent and what came back."""

    def __init__(self, clause_id: str, problem: str, evidence: str = "") -> None:
        self.clause = clause(clause_id)
        self.problem = problem
        self.evidence = evidence
        super().__init__(self.render())

    def render(self) -> str:
        lines = [self.clause.headline(), f"  problem: {self.problem}"]
        if self.evidence:
            lines.extend("  " + line for line in self.evidence.splitlines())
        lines.append(f"  source: {self.clause.source}")
        return "\n".join(lines)


def find_violation(error: BaseException | None) -> ClauseViolation | None:
    """The clause violation behind an exception, looking inside exception groups and causes."""
    seen: set[int] = set()
    pending: list[BaseException] = [error] if error is not None else []
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ClauseViolation):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return None


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARNING = "warning"
    SKIPPED = "skipped"
    NOT_RUN = "not run"


@dataclass
class ClauseResult:
    clause: Clause
    verdict: Verdict = Verdict.NOT_RUN
    tests: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    skip_reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.clause.id,
            "level": str(self.clause.level),
            "group": self.clause.group,
            "statement": self.clause.statement,
            "source": self.clause.source,
            "result": str(self.verdict),
            "tests": self.tests,
            "messages": self.messages,
            "skip_reasons": sorted(set(self.skip_reasons)),
            "notes": self.notes,
        }


class Ledger:
    """Per-clause verdicts, built from the outcome of every contract test of the run."""

    def __init__(self, clauses: Mapping[str, Clause] | None = None) -> None:
        self._results = {cid: ClauseResult(c) for cid, c in (clauses or catalogue()).items()}
        self._outcomes: dict[str, list[str]] = {cid: [] for cid in self._results}

    def record(
        self,
        test_id: str,
        marked: Iterable[str],
        outcome: str,
        *,
        violation: ClauseViolation | None = None,
        message: str = "",
        skip_reason: str = "",
    ) -> None:
        """outcome: passed, failed or skipped. A violation is charged to its own clause, and the test's
        other clauses count as not verified by this test."""
        marked = list(marked)
        for cid in marked:
            self._results[cid].tests.append(test_id)
        if outcome == "failed" and violation is not None:
            self._charge(violation.clause.id, message or str(violation))
            return
        for cid in marked:
            if outcome == "failed":
                self._charge(cid, message)
            elif outcome == "skipped":
                self._outcomes[cid].append("skipped")
                self._results[cid].skip_reasons.append(skip_reason)
            else:
                self._outcomes[cid].append("passed")

    def note(self, clause_id: str, text: str) -> None:
        """Information a test reports without failing (e.g. extra enum values seen)."""
        if text not in self._results[clause_id].notes:
            self._results[clause_id].notes.append(text)

    def _charge(self, clause_id: str, message: str) -> None:
        self._outcomes[clause_id].append("failed")
        self._results[clause_id].messages.append(message)

    def results(self) -> list[ClauseResult]:
        for cid, result in self._results.items():
            outcomes = self._outcomes[cid]
            if "failed" in outcomes:
                result.verdict = Verdict.FAIL if result.clause.level.fails_run else Verdict.WARNING
            elif "passed" in outcomes:
                result.verdict = Verdict.PASS
            elif "skipped" in outcomes:
                result.verdict = Verdict.SKIPPED
            else:
                result.verdict = Verdict.NOT_RUN
        return list(self._results.values())

    def counts(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for result in self.results():
            row = table.setdefault(str(result.clause.level), {str(v): 0 for v in Verdict})
            row[str(result.verdict)] += 1
        return table
