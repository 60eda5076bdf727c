"""Repository-wide pytest configuration: where pytest-recording keeps cassettes and how it records them.

These override pytest-recording's own fixtures of the same names, which only a conftest.py can do
reliably (between two plugins the winner depends on load order)."""

from __future__ import annotations

from typing import Any

import pytest

from kraken_contract.plugin import cassette_directory, vcr_options


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return cassette_directory(request)


@pytest.fixture
def vcr_config(pytestconfig: pytest.Config) -> dict[str, Any]:
    return vcr_options(pytestconfig)
