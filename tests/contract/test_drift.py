"""Schema drift: the target's schema against the pinned one, classified by graphql-core."""

from __future__ import annotations

import pytest

from kraken_contract.clauses import ClauseViolation
from kraken_contract.drift import SchemaChange, compare
from kraken_contract.plugin import ClauseNote
from kraken_contract.schema import Introspection, pinned_schema


@pytest.fixture(scope="module")
def changes(target_introspection: Introspection) -> list[SchemaChange]:
    if target_introspection.schema is None:
        pytest.skip(f"{target_introspection.problem}; the schema cannot be compared")
    return compare(pinned_schema(), target_introspection.schema)


def drifted(clause_id: str, problem: str, found: list[SchemaChange]) -> ClauseViolation:
    lines = [f"  {change.level} {change.path}: {change.description}" for change in found]
    evidence = "sent: the introspection query\nreceived: a schema with these changes from the pinned one:\n"
    return ClauseViolation(clause_id, problem, evidence + "\n".join(lines))


@pytest.mark.clause("PNB-DRIFT-1")
def test_no_breaking_change_reaches_a_documented_operation(changes: list[SchemaChange]) -> None:
    found = [c for c in changes if c.unapproved_breaking and c.affects_documented_operation]
    if found:
        raise drifted("PNB-DRIFT-1", f"{len(found)} breaking changes reach a documented operation", found)


@pytest.mark.clause("PNB-DRIFT-2")
def test_no_other_breaking_change(changes: list[SchemaChange]) -> None:
    found = [c for c in changes if c.unapproved_breaking and not c.affects_documented_operation]
    if found:
        raise drifted("PNB-DRIFT-2", f"{len(found)} breaking changes outside the documented operations", found)


@pytest.mark.clause("PNB-DRIFT-3")
def test_no_dangerous_change(changes: list[SchemaChange], clause_note: ClauseNote) -> None:
    for change in changes:
        if change.level == "SAFE":
            clause_note("PNB-DRIFT-3", f"safe: {change.path}: {change.description}")
    found = [c for c in changes if c.level == "DANGEROUS"]
    if found:
        raise drifted("PNB-DRIFT-3", f"{len(found)} dangerous changes", found)
