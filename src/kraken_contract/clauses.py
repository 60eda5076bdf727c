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
    return next(iter(find_violations(error)), None)


def find_violations(error: BaseException | None) -> list[ClauseViolation]:
    """Every clause violation behind an exception, the outermost first."""
    found: list[ClauseViolation] = []
    seen: set[int] = set()
    pending: list[BaseException] = [error] if error is not None else []
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ClauseViolation):
            found.append(current)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        # Schemathesis keeps a failed check's exception on its failure object.
        for linked in (current.__cause__, current.__context__, getattr(current, "exception", None)):
            if isinstance(linked, BaseException):
                pending.append(linked)
    return found


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARNING = "warning"
    BLOCKED = "blocked"
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
        violations: Iterable[ClauseViolation] = (),
        message: str = "",
        skip_reason: str = "",
    ) -> None:
        """outcome: passed, failed or skipped. Violations are charged to their own clauses; a test's clause
        that another clause's violation stopped is blocked (not verified), not failed."""
        marked = list(marked)
        violations = list(violations)
        for cid in marked:
            self._results[cid].tests.append(test_id)
        if outcome == "failed" and violations:
            for violation in violations:
                self._charge(violation.clause.id, violation.problem)
            charged = {violation.clause.id for violation in violations}
            for cid in marked:
                if cid not in charged:
                    self._outcomes[cid].append("blocked")
                    self._results[cid].messages.append(f"blocked by {violations[0].clause.id}: {violations[0].problem}")
            return
        for cid in marked:
            if outcome == "failed":
                self._charge(cid, message)
            elif outcome == "skipped":
                self._outcomes[cid].append("skipped")
                self._results[cid].skip_reasons.append(skip_reason)
            else:
                self._outcomes[cid].append("passed")

    def charge(self, test_id: str, violation: ClauseViolation) -> None:
        """A violation found beside what a test verifies (e.g. the shape of a response it received)."""
        if test_id not in self._results[violation.clause.id].tests:
            self._results[violation.clause.id].tests.append(test_id)
        self._charge(violation.clause.id, violation.problem)

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
            elif "blocked" in outcomes:
                result.verdict = Verdict.BLOCKED
            elif "passed" in outcomes:
                result.verdict = Verdict.PASS
            elif "skipped" in outcomes:
                result.verdict = Verdict.SKIPPED
            else:
                result.verdict = Verdict.NOT_RUN
        return list(self._results.values())
