"""Fuzzing with Schemathesis: requests generated from the pinned schema, sent through the run's own session
(so they are retried, recorded, replayed and cleaned up like every other request), and judged by checks
that know Kraken's error format instead of Schemathesis' server-error check, which calls every documented
`KT-CT-...` error a server error."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import schemathesis
from graphql import DocumentNode, GraphQLSchema, ObjectFieldNode, StringValueNode, print_ast, validate, visit
from graphql.language import REMOVE, Visitor
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from kraken_contract.clauses import ClauseViolation, find_violation
from kraken_contract.client import Exchange, KrakenHTTP, parsed_document
from kraken_contract.invariants import (
    ShapeChecker,
    check_error_shape,
    check_json,
    check_no_server_error,
    expect,
    is_json_response,
)
from kraken_contract.resources import pinned_schema_path
from kraken_contract.strategies import salted

FUZZED_OPERATIONS = r"^Mutation\.(register|delete)PushNotificationBinding$"

Check = Callable[[Any, Any, Any], None]


@dataclass
class FuzzTarget:
    """What generation needs from the run: the bundle id that names a real application."""

    bundle_id: str | None = None


def fuzz_schema(max_examples: int, target: FuzzTarget) -> Any:
    """The pinned schema as Schemathesis sees it, restricted to the two mutations, positive and negative
    cases, derandomized (a recording replays) and unshrunk (each request is a round trip)."""
    config = SchemathesisConfig.from_dict(
        {
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "deterministic": True,
                "no-shrink": True,
                "database": "none",
            }
        }
    )
    schema = schemathesis.graphql.from_path(pinned_schema_path(), config=config).include(name_regex=FUZZED_OPERATIONS)

    @schema.hook
    def map_body(context: Any, body: DocumentNode) -> DocumentNode:
        # Random bundle ids, services and providers name no application, so no registration would ever
        # succeed and the shape of success would go unchecked: every other document is made registrable.
        if target.bundle_id is None or zlib.crc32(print_ast(body).encode()) % 2:
            return body
        return _registrable(body, target.bundle_id)

    return schema


def _registrable(document: DocumentNode, bundle_id: str) -> DocumentNode:
    """The target's bundle id, a token that is not blank, and no service or provider (so the default
    application is chosen)."""

    class Registrable(Visitor):
        def leave_object_field(self, node: ObjectFieldNode, *_args: Any) -> Any:
            if node.name.value == "bundleId" and isinstance(node.value, StringValueNode):
                return replace(node, value=StringValueNode(value=bundle_id))
            if node.name.value == "token" and isinstance(node.value, StringValueNode) and not node.value.value.strip():
                return replace(node, value=StringValueNode(value=salted(node.value.value)))
            if node.name.value in ("service", "externalProvider"):
                return REMOVE
            return None

    rewritten = visit(document, Registrable())
    return rewritten if isinstance(rewritten, DocumentNode) else document


def is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode == GenerationMode.POSITIVE


def is_valid_for_target(case: Any, exchange: Exchange, target_schema: GraphQLSchema | None) -> bool:
    """A positive case is valid against the pinned schema; the target may lack some of its fields (brands
    differ), which makes the request invalid there. Without the target's schema, an error with neither data
    nor a path is the target saying the request itself is invalid."""
    if not is_positive(case):
        return False
    if target_schema is not None:
        document = parsed_document(exchange.query)
        return document is not None and not validate(target_schema, document)
    executed = exchange.data is not None or not exchange.errors
    return executed or any(isinstance(error, dict) and error.get("path") for error in exchange.errors)


def kraken_checks(http: KrakenHTTP, shapes: ShapeChecker, target_schema: GraphQLSchema | None) -> list[Check]:
    """Schemathesis checks `(ctx, response, case)` judging the exchange just sent, by clause."""

    def last() -> Exchange:
        if http.last_exchange is None:
            raise AssertionError("no request was sent")
        return http.last_exchange

    def kraken_no_server_error(ctx: Any, response: Any, case: Any) -> None:
        check_no_server_error(last())

    def kraken_error_shape(ctx: Any, response: Any, case: Any) -> None:
        # The Kraken shape is owed to valid requests; invalid ones get validation errors (PNB-ERR-4 is a SHOULD).
        exchange = last()
        check_json(exchange)
        if is_valid_for_target(case, exchange, target_schema):
            check_error_shape(exchange)

    def kraken_invalid_request_answer(ctx: Any, response: Any, case: Any) -> None:
        exchange = last()
        if is_valid_for_target(case, exchange, target_schema) or not exchange.errors or exchange.data is not None:
            return
        expect(
            exchange.status in (200, 400) and is_json_response(exchange),
            "PNB-HTTP-4",
            f"an invalid request got HTTP {exchange.status} ({exchange.content_type or 'no content type'})",
            exchange,
        )

    def kraken_response_shape(ctx: Any, response: Any, case: Any) -> None:
        exchange = last()
        if exchange.errors:
            return
        problems = shapes.problems(exchange.query, exchange.data)
        if problems:
            clause_id, problem = problems[0]
            expect(False, clause_id, problem, exchange)

    return [kraken_no_server_error, kraken_error_shape, kraken_invalid_request_answer, kraken_response_shape]


def send_case(case: Any, url: str, http: KrakenHTTP, authorization: str, checks: list[Check]) -> None:
    """Send one generated case and judge it; a failed check fails PNB-FUZZ-1 and the clause it checks."""
    try:
        case.call_and_validate(base_url=url, session=http, headers={"Authorization": authorization}, checks=checks)
    except BaseExceptionGroup as failures:
        found = find_violation(failures)
        if found is None:
            raise
        raise ClauseViolation("PNB-FUZZ-1", f"{found.clause.id}: {found.problem}", found.evidence) from failures
