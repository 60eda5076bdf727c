"""What must hold of responses: date-times, the server clock, the Kraken error shape, and the checks
applied to every exchange of the run."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    is_composite_type,
    validate,
)

from kraken_contract.clauses import ClauseViolation
from kraken_contract.client import Exchange, parsed_document

ERROR_CODE = re.compile(r"KT-[A-Z]{2}-[0-9]{4,5}")
JSON_CONTENT_TYPES = ("application/json", "application/graphql-response+json")
# Written into a recorded response that has no Date header, so replays compare with the recording's time.
RECORDED_AT_HEADER = "X-Kraken-Contract-Recorded-At"

_ISO_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?:[.,](?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)"
)


def violated(clause_id: str, problem: str, *exchanges: Exchange) -> ClauseViolation:
    """A violation of a clause, with what was sent and what came back."""
    return ClauseViolation(clause_id, problem, "\n".join(exchange.describe() for exchange in exchanges))


def expect(condition: object, clause_id: str, problem: str, *exchanges: Exchange) -> None:
    if not condition:
        raise violated(clause_id, problem, *exchanges)


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 date-time with an explicit UTC offset (any offset, `Z` included, fraction optional).
    Raises ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    match = _ISO_DATETIME.fullmatch(value)
    if match is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}([.,]\d+)?", value):
            raise ValueError(f"{value!r} has no UTC offset")
        raise ValueError(f"{value!r} is not an ISO 8601 date-time with a UTC offset")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    offset_text = match["offset"]
    if offset_text in ("Z", "z"):
        offset = timedelta(0)
    else:
        digits = offset_text[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if offset >= timedelta(hours=24):
            raise ValueError(f"{value!r} has an impossible UTC offset")
        if offset_text[0] == "-":
            offset = -offset
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid date-time: {error}") from None
    return moment.replace(tzinfo=timezone(offset))


def precision(value: str) -> timedelta:
    """The resolution of an ISO 8601 date-time as written: 1 s without a fraction, 1 ms with 3 digits..."""
    match = _ISO_DATETIME.fullmatch(value)
    digits = len(match["fraction"] or "") if match else 0
    return timedelta(seconds=10 ** -min(digits, 6))


def server_clock(exchange: Exchange) -> tuple[datetime, datetime, str]:
    """The window in which the server answered, and where it was read: the `Date` header (second
    resolution), the recording's time for a replayed response without one, else the local clock."""
    date = exchange.response_headers.get("Date")
    if date:
        try:
            moment = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return moment, moment + timedelta(seconds=1), f"the Date header ({date})"
    recorded = exchange.response_headers.get(RECORDED_AT_HEADER)
    if recorded:
        moment = datetime.fromisoformat(recorded)
        return moment, moment, f"the recording's clock ({recorded})"
    return exchange.sent_at, exchange.received_at, "the local clock (no Date header)"


def error_shape_problems(error: Any) -> list[str]:
    """How one GraphQL error departs from the Kraken error shape (empty when it conforms)."""
    if not isinstance(error, dict):
        return [f"an error is not an object: {error!r}"]
    problems = []
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append("an error has no `message`")
    extensions = error.get("extensions")
    if not isinstance(extensions, dict):
        return [*problems, "an error has no `extensions`"]
    code = extensions.get("errorCode")
    if not isinstance(code, str) or not ERROR_CODE.fullmatch(code):
        problems.append(f"`extensions.errorCode` is {code!r}, not a code like KT-CT-1112")
    if not isinstance(extensions.get("errorType"), str) or not extensions["errorType"]:
        problems.append("`extensions.errorType` is missing")
    return problems


def is_json_response(exchange: Exchange) -> bool:
    media_type = exchange.content_type.split(";")[0].strip().lower()
    return media_type in JSON_CONTENT_TYPES and isinstance(exchange.body, dict)


def check_no_server_error(exchange: Exchange) -> None:
    expect(exchange.status < 500, "PNB-HTTP-3", f"the server answered HTTP {exchange.status}", exchange)


def check_json(exchange: Exchange) -> None:
    expect(
        is_json_response(exchange),
        "PNB-HTTP-1",
        f"the response is not a JSON object with a JSON content type (Content-Type: {exchange.content_type!r})",
        exchange,
    )


def check_error_shape(exchange: Exchange) -> None:
    problems = [problem for error in exchange.errors for problem in error_shape_problems(error)]
    expect(not problems, "PNB-ERR-1", "; ".join(sorted(set(problems))), exchange)


def check_exchange(exchange: Exchange, valid_request: bool) -> None:
    """The clauses every response of the run must meet: no 5xx, JSON, and (for valid requests) the Kraken
    error shape."""
    check_no_server_error(exchange)
    check_json(exchange)
    if valid_request:
        check_error_shape(exchange)


def error_types(exchange: Exchange) -> list[str]:
    return [
        str((error.get("extensions") or {}).get("errorType"))
        for error in exchange.errors
        if isinstance(error, dict) and isinstance(error.get("extensions"), dict)
    ]


# ---------------------------------------------------------------------------- response shape
@lru_cache(maxsize=128)
def _operation(
    document: str, schema: GraphQLSchema
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]] | None:
    """The operation of a document that is valid against `schema`, with its fragments; None otherwise."""
    tree = parsed_document(document)
    if tree is None or validate(schema, tree):
        return None
    operations = [d for d in tree.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in tree.definitions if isinstance(d, FragmentDefinitionNode)}
    return (operations[0], fragments) if len(operations) == 1 else None


class ShapeChecker:
    """Checks a response's `data` against the request's selection set and the pinned schema's types
    (PNB-SHAPE-1..4). Enum values may be those of the target's own enums (`extra_enum_values`)."""

    def __init__(self, schema: GraphQLSchema, extra_enum_values: Mapping[str, set[str]] | None = None) -> None:
        self.schema = schema
        self.extra_enum_values = extra_enum_values or {}

    def problems(self, document: str | None, data: Any) -> list[tuple[str, str]]:
        """(clause ID, problem) for each departure; [] for documents the pinned schema does not validate."""
        found = _operation(document, self.schema) if document else None
        if found is None or not isinstance(data, dict):
            return []
        operation, fragments = found
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return []
        problems: list[tuple[str, str]] = []
        self._object(operation.selection_set, root, data, "data", fragments, problems)
        return problems

    def _object(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLCompositeType,
        value: dict[str, Any],
        path: str,
        fragments: Mapping[str, FragmentDefinitionNode],
        problems: list[tuple[str, str]],
    ) -> None:
        requested: set[str] = set()
        for field_node in self._fields(selection_set, parent, value, fragments):
            key = field_node.alias.value if field_node.alias else field_node.name.value
            requested.add(key)
            where = f"{path}.{key}"
            if field_node.name.value == "__typename":
                if key in value and not isinstance(value[key], str):
                    problems.append(("PNB-SHAPE-1", f"{where} is {value[key]!r}, not a type name"))
                continue
            definition = (
                parent.fields.get(field_node.name.value)
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                else None
            )
            if definition is None:
                continue
            if key not in value:
                problems.append(("PNB-SHAPE-1", f"{where} was requested but is missing"))
                continue
            self._value(definition.type, value[key], field_node, where, fragments, problems)
        extra = sorted(set(value) - requested)
        if extra:
            problems.append(("PNB-SHAPE-4", f"{path} holds fields that were not requested: {', '.join(extra)}"))

    def _fields(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLCompositeType,
        value: dict[str, Any],
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                condition, nested = (fragment.type_condition, fragment.selection_set) if fragment else (None, None)
            elif isinstance(selection, InlineFragmentNode):
                condition, nested = selection.type_condition, selection.selection_set
            else:
                continue
            if nested is None:
                continue
            applies = condition is None or condition.name.value in (parent.name, value.get("__typename"))
            if applies or not isinstance(parent, GraphQLObjectType):
                yield from self._fields(nested, parent, value, fragments)

    def _value(
        self,
        type_: GraphQLOutputType,
        value: Any,
        node: FieldNode,
        path: str,
        fragments: Mapping[str, FragmentDefinitionNode],
        problems: list[tuple[str, str]],
    ) -> None:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                problems.append(("PNB-SHAPE-1", f"{path} is null but the schema says {type_}"))
                return
            type_ = type_.of_type
        if value is None:
            return
        if isinstance(type_, GraphQLList):
            if not isinstance(value, list):
                problems.append(("PNB-SHAPE-1", f"{path} is {value!r}, not a list"))
                return
            for index, item in enumerate(value):
                self._value(type_.of_type, item, node, f"{path}[{index}]", fragments, problems)
            return
        if isinstance(type_, GraphQLEnumType):
            allowed = set(type_.values) | self.extra_enum_values.get(type_.name, set())
            if value not in allowed:
                problems.append(
                    ("PNB-SHAPE-2", f"{path} is {value!r}, not a value of {type_.name} ({', '.join(sorted(allowed))})")
                )
            return
        if isinstance(type_, GraphQLScalarType):
            problem = _scalar_problem(type_.name, value)
            if problem:
                clause_id = "PNB-SHAPE-3" if type_.name == "DateTime" else "PNB-SHAPE-1"
                problems.append((clause_id, f"{path} {problem}"))
            return
        if not isinstance(value, dict):
            problems.append(("PNB-SHAPE-1", f"{path} is {value!r}, not an object ({type_})"))
            return
        if node.selection_set is not None and is_composite_type(type_):
            self._object(node.selection_set, type_, value, path, fragments, problems)


def _scalar_problem(name: str, value: Any) -> str | None:
    if name == "DateTime":
        try:
            parse_datetime(value)
        except ValueError as error:
            return f"is not an ISO 8601 date-time with a UTC offset: {error}"
        return None
    expected: dict[str, tuple[type, ...]] = {
        "String": (str,),
        "ID": (str, int),
        "Boolean": (bool,),
        "Float": (int, float),
        "Int": (int,),
    }
    kinds = expected.get(name)
    if kinds is None:
        return None  # custom scalars (GenericScalar) may hold anything
    if not isinstance(value, kinds) or (name in ("Int", "Float") and isinstance(value, bool)):
        return f"is {value!r}, not a {name}"
    return None
