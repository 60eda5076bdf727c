"""Fuzzing registerPushNotificationBinding and deletePushNotificationBinding with Schemathesis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kraken_contract.auth import authorization_value
from kraken_contract.fuzz import FuzzTarget, fuzz_schema, kraken_checks, send_case
from kraken_contract.plugin import ContractRun

EXAMPLES = 30
GENERATION = FuzzTarget()
SCHEMA = fuzz_schema(EXAMPLES, GENERATION)


@pytest.fixture
def fuzz(contract_run: ContractRun) -> Callable[[Any], None]:
    target, connection = contract_run.ready_target, contract_run.connection
    GENERATION.bundle_id = target.bundle_id
    authorization = authorization_value(connection.token_source("primary").token(), target.auth_scheme)
    checks = kraken_checks(connection.http, contract_run.shapes, contract_run.introspection.schema)

    def send(case: Any) -> None:
        contract_run.refuse_writes_on_production()
        send_case(case, target.url, connection.http, authorization, checks)

    return send


@pytest.mark.clause("PNB-FUZZ-1")
@SCHEMA.parametrize()
def test_fuzzed_requests_meet_every_response_clause(case: Any, fuzz: Callable[[Any], None]) -> None:
    fuzz(case)
