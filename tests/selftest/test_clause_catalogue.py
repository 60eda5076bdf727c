"""The catalogue and the contract tests stay in step: every test names a clause, every clause has a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from kraken_contract.clauses import Level, catalogue
from kraken_contract.plugin import clauses_of

CONTRACT_TESTS = Path(__file__).resolve().parents[1] / "contract"


@pytest.fixture(scope="module")
def contract_items(pytestconfig: pytest.Config) -> list[pytest.Item]:
    collected: list[pytest.Item] = []

    class Collector:
        @pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
            collected.extend(items)

    code = pytest.main(["--collect-only", "-q", str(CONTRACT_TESTS)], plugins=[Collector()])
    assert code == 0, f"collecting {CONTRACT_TESTS} failed with exit code {code}"
    return collected


def test_contract_tests_are_collected(contract_items: list[pytest.Item]) -> None:
    assert len(contract_items) >= len(catalogue())


def test_every_contract_test_names_a_clause(contract_items: list[pytest.Item]) -> None:
    unnamed = [item.nodeid for item in contract_items if not clauses_of(item)]
    assert unnamed == [], f"contract tests without @pytest.mark.clause: {unnamed}"


def test_every_clause_has_a_test(contract_items: list[pytest.Item]) -> None:
    tested = {cid for item in contract_items for cid in clauses_of(item)}
    untested = [cid for cid in catalogue() if cid not in tested]
    assert untested == [], f"clauses with no contract test: {untested}"


def test_every_named_clause_exists(contract_items: list[pytest.Item]) -> None:
    unknown = {cid for item in contract_items for cid in clauses_of(item)} - set(catalogue())
    assert unknown == set()


def test_catalogue_entries_are_complete() -> None:
    for clause in catalogue().values():
        assert clause.id.startswith("PNB-"), clause.id
        assert clause.level in Level
        assert clause.statement.endswith("."), clause.id
        assert clause.source, clause.id


def test_uncertain_facts_are_never_must() -> None:
    # Re-registration refreshing registeredAt and the header forms are not documented as requirements.
    assert catalogue()["PNB-IDEM-2"].level is Level.SHOULD
    assert catalogue()["PNB-AUTH-4"].level is Level.SHOULD
    assert catalogue()["PNB-SCHEMA-3"].level is Level.SHOULD
