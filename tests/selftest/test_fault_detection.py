"""The suite catches deployment faults and raises no false alarm: for every clause, the reference deployment is
started with a fault that breaks it and the suite must fail on that clause; against every conformant variant of
the deployment the suite must pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kraken_contract.clauses import Level, catalogue
from kraken_contract.reference import SWITCHES

CONTRACT_TESTS = Path(__file__).resolve().parents[1] / "contract"
# One fault per clause it breaks, the first the catalogue of switches names for it.
FAULT_FOR_CLAUSE = {
    clause_id: next(s.name for s in SWITCHES.values() if s.kind == "fault" and clause_id in s.expected_clauses)
    for clause_id in catalogue()
    if any(s.kind == "fault" and clause_id in s.expected_clauses for s in SWITCHES.values())
}


def run_suite(pytester: pytest.Pytester, *switches: str, clause: str | None = None) -> pytest.RunResult:
    arguments = [str(CONTRACT_TESTS), "--kraken-target=local", "--disable-recording", "-p", "no:randomly"]
    arguments += [f"--kraken-fault={name}" for name in switches]
    if clause:
        arguments.append(f"--kraken-clause={clause}")
    return pytester.runpytest_inprocess(*arguments)


def failed_clauses(result: pytest.RunResult) -> set[str]:
    return {match[1] for line in result.outlines if (match := re.match(r"\s+FAILED (PNB-[A-Z0-9-]+) ", line))}


def test_every_must_clause_has_a_fault_that_breaks_it() -> None:
    # The schema drift and response-shape clauses are proven by their own selftests.
    uncovered = [cid for cid, c in catalogue().items() if c.level is Level.MUST and cid not in FAULT_FOR_CLAUSE]
    assert uncovered == []


@pytest.mark.parametrize(("clause_id", "fault"), sorted(FAULT_FOR_CLAUSE.items()))
def test_fault_is_caught_by_its_clause(pytester: pytest.Pytester, clause_id: str, fault: str) -> None:
    result = run_suite(pytester, fault, clause=clause_id)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert clause_id in failed_clauses(result), result.stdout.str()


@pytest.mark.parametrize("variant", [name for name, switch in SWITCHES.items() if switch.kind == "conformant"])
def test_conformant_variant_passes(pytester: pytest.Pytester, variant: str) -> None:
    result = run_suite(pytester, variant)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert failed_clauses(result) == set()


@pytest.mark.parametrize(
    "variants",
    [
        ("brand-es", "plain-validation-errors"),
        ("tz-minus-0500", "no-fraction", "no-date-header"),
        ("extra-schema", "validation-400", "auth-bare-only"),
        ("no-introspection", "tz-z", "plain-validation-errors"),
    ],
)
def test_conformant_variants_combined_pass(pytester: pytest.Pytester, variants: tuple[str, ...]) -> None:
    result = run_suite(pytester, *variants)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert failed_clauses(result) == set()
