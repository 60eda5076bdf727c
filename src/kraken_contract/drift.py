"""Schema drift: the documented slice of a schema, and `kraken-contract schema pull` / `schema diff`.

graphql-core does the schema work (slicing by reachability, sorting, printing, and finding changes); this
module adds what it does not give: the schema coordinate of each change, whether a documented operation
uses the changed element, and approvals of accepted breaking changes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit

import requests
from gql.transport.exceptions import TransportError
from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    GraphQLWrappingType,
    SafeChangeType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_client_schema,
    build_schema,
    find_schema_changes,
    get_named_type,
    is_composite_type,
    is_leaf_type,
    is_non_null_type,
    lexicographic_sort_schema,
    parse,
    parse_type,
    print_schema,
    type_from_ast,
    visit,
)
from graphql.language import (
    ArgumentNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    ObjectFieldNode,
    VariableDefinitionNode,
)

from kraken_contract.auth import AuthenticationFailed
from kraken_contract.client import Connection, connection_problem, inner_errors
from kraken_contract.redaction import Redactor
from kraken_contract.resources import operations_dir as default_operations_dir
from kraken_contract.resources import schemas_dir
from kraken_contract.schema import introspect
from kraken_contract.target import ConfigurationError, build_target

# The root fields of the four documented operations: the slice is what is reachable from these.
ROOT_FIELDS: dict[str, tuple[str, ...]] = {
    "query": ("viewer",),
    "mutation": ("obtainKrakenToken", "registerPushNotificationBinding", "deletePushNotificationBinding"),
}
LEVELS = ("BREAKING", "DANGEROUS", "SAFE")
APPROVALS_FILE = "approved-changes.toml"
APPROVAL_FIELDS = ("path", "type", "reason", "date")
CHANGE_TYPES = frozenset(
    kind.name for kinds in (BreakingChangeType, DangerousChangeType, SafeChangeType) for kind in kinds
)
JSON_SCHEMA_VERSION = 1
AFFECTS_MARKER = "[affects a documented operation]"
PATH_COLUMN = 56

# Slept between retries of a refused connection (KrakenHTTP retries); a module global so tests can skip it.
_sleep = time.sleep


class DriftError(ConfigurationError):
    """A schema source, approvals file or operations folder that cannot be used; one line naming it."""


@dataclass(frozen=True)
class Approval:
    """An accepted change, from the approvals file: it matches a change with the same path and type."""

    path: str
    type: str
    reason: str
    date: str  # YYYY-MM-DD


@dataclass(frozen=True)
class SchemaChange:
    level: str  # BREAKING, DANGEROUS or SAFE
    type: str  # graphql-core's change type name, e.g. FIELD_REMOVED
    path: str  # schema coordinate of the changed element; "" when graphql-core's description is not understood
    description: str  # graphql-core's description
    affects_documented_operation: bool
    approved: Approval | None

    @property
    def unapproved_breaking(self) -> bool:
        return self.level == "BREAKING" and self.approved is None

    def as_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "type": self.type,
            "path": self.path,
            "description": self.description,
            "affects_documented_operation": self.affects_documented_operation,
            "approved": None if self.approved is None else {"reason": self.approved.reason, "date": self.approved.date},
        }


# ---------------------------------------------------------------------------------------------- slice
def slice_schema(schema: GraphQLSchema) -> GraphQLSchema:
    """The documented slice: the four root fields (those present) and every named type reachable from them.

    GraphQLSchema collects the reachable types itself; directives are left at the specified ones, as the
    documented operations use no others."""
    roots = {
        operation: _sliced_root(root, ROOT_FIELDS[operation])
        for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type))
    }
    try:
        return GraphQLSchema(query=roots["query"], mutation=roots["mutation"])
    except TypeError as error:  # e.g. a type of the slice refers back to the full root type
        raise DriftError(f"cannot slice the schema: {_one_line(str(error))}") from None


def _sliced_root(root: GraphQLObjectType | None, names: tuple[str, ...]) -> GraphQLObjectType | None:
    if root is None:
        return None
    fields = {name: root.fields[name] for name in sorted(root.fields) if name in names}
    if not fields:
        return None
    kwargs = root.to_kwargs()
    kwargs["fields"] = fields
    return GraphQLObjectType(**kwargs)


def has_documented_fields(schema: GraphQLSchema) -> bool:
    return any(
        root is not None and any(name in root.fields for name in ROOT_FIELDS[operation])
        for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type))
    )


def canonical_sdl(schema: GraphQLSchema) -> str:
    return print_schema(lexicographic_sort_schema(schema)) + "\n"


# ---------------------------------------------------------------------------------------------- sources
def load_schema_source(source: str) -> GraphQLSchema:
    """A schema from an SDL file, an introspection JSON file (.json) or an http(s) URL (introspected with
    the KRAKEN_* credentials). Not sliced. Raises DriftError with one line on any problem."""
    try:
        parts = urlsplit(source)
        host = parts.hostname
    except ValueError as error:  # e.g. an unclosed [IPv6] host
        raise DriftError(f"{source}: not a usable URL: {error}") from None
    if parts.scheme.lower() in {"http", "https"}:
        if not host:
            raise DriftError(f"{source}: not a usable URL, it has no host (e.g. https://api.example/v1/graphql/)")
        return introspect_url(source)
    if "://" in source:
        raise DriftError(f"{source}: only http(s) URLs can be introspected")
    path = Path(source)
    if not path.is_file():
        raise DriftError(
            f"{source}: no such file (give a .graphql SDL file, a .json introspection result or an http(s) URL)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DriftError(f"{source}: cannot read it: {_one_line(str(error))}") from None
    if path.suffix.lower() == ".json":
        return _schema_from_introspection(text, source)
    return _schema_from_sdl(text, source)


def _schema_from_sdl(text: str, source: str) -> GraphQLSchema:
    try:
        return build_schema(text)
    except GraphQLError as error:
        raise DriftError(f"{_located(source, error)}: not valid GraphQL SDL: {_one_line(error.message)}") from None
    except TypeError as error:  # build_schema's SDL validation reports all problems in one TypeError
        raise DriftError(f"{source}: not a valid GraphQL schema: {_one_line(str(error))}") from None


def _schema_from_introspection(text: str, source: str) -> GraphQLSchema:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DriftError(f"{source}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    result = document.get("data", document) if isinstance(document, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("__schema"), dict):
        raise DriftError(f'{source}: not an introspection result: expected {{"data": {{"__schema": ...}}}}')
    try:
        return build_client_schema(result)  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError, GraphQLError) as error:
        raise DriftError(f"{source}: not a valid introspection result: {_one_line(str(error))}") from None


def introspect_url(url: str) -> GraphQLSchema:
    """The schema of a live endpoint, read as the suite reads it: same KRAKEN_* credentials, same client."""
    try:
        target = build_target(os.environ, mode="live", url_option=url)
    except ConfigurationError as error:
        raise DriftError(f"cannot introspect {url}: {error}") from None
    redactor = Redactor()
    connection = Connection(target, redactor, sleep=_sleep)
    try:
        result = introspect(connection.api("primary"))
    except (AuthenticationFailed, requests.RequestException, TransportError, RuntimeError) as error:
        # gql wraps whatever the session raises, a failed token exchange included.
        # gql wraps whatever the session raises, a failed token exchange included.
        refused = next((e for e in inner_errors(error) if isinstance(e, AuthenticationFailed)), None)
        if refused is not None:
            raise DriftError(f"cannot introspect {url}: {redactor.text(_one_line(str(refused)))}") from None
        raise DriftError(f"cannot reach {url}: {redactor.text(connection_problem(error))}") from None
    finally:
        connection.http.close()
    if result.schema is None:
        raise DriftError(f"cannot introspect {url}: {redactor.text(_one_line(result.problem))}")
    return result.schema


# ---------------------------------------------------------------------------------------------- approvals
def default_approvals_path() -> Path:
    return schemas_dir() / APPROVALS_FILE


def load_approvals(path: Path) -> list[Approval]:
    """The `[[change]]` entries of an approvals file; DriftError (one line naming the entry) if malformed."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DriftError(f"{path}: no such approvals file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DriftError(f"{path}: cannot read it: {_one_line(str(error))}") from None
    except tomllib.TOMLDecodeError as error:
        raise DriftError(f"{path}: not valid TOML: {_one_line(str(error))}") from None
    unknown = sorted(set(document) - {"change"})
    if unknown:
        raise DriftError(f"{path}: unknown key {unknown[0]!r}; approvals are [[change]] entries")
    entries = document.get("change", [])
    if not isinstance(entries, list):
        raise DriftError(f"{path}: 'change' must be written as [[change]] entries")
    return [_approval(entry, f"{path}: [[change]] #{number}") for number, entry in enumerate(entries, 1)]


def _approval(entry: Any, name: str) -> Approval:
    if not isinstance(entry, dict):
        raise DriftError(f"{name} is not a table")
    if isinstance(entry.get("path"), str) and entry["path"]:
        name += f" (path {entry['path']!r})"
    missing = [key for key in APPROVAL_FIELDS if key not in entry]
    if missing:
        raise DriftError(f"{name} is missing {', '.join(missing)} (each entry needs {', '.join(APPROVAL_FIELDS)})")
    unknown = sorted(set(entry) - set(APPROVAL_FIELDS))
    if unknown:
        raise DriftError(f"{name} has an unknown key {unknown[0]!r} (allowed: {', '.join(APPROVAL_FIELDS)})")
    for key in ("path", "type", "reason"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise DriftError(f"{name}: {key} must be a non-empty string")
    if entry["type"] not in CHANGE_TYPES:
        raise DriftError(
            f"{name}: type {entry['type']!r} is not a graphql-core change type (e.g. FIELD_REMOVED, "
            "as `schema diff` prints it)"
        )
    return Approval(entry["path"], entry["type"], entry["reason"].strip(), _approval_date(entry["date"], name))


def _approval_date(value: Any, name: str) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):  # an unquoted TOML date
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise DriftError(f"{name}: date must be a date written YYYY-MM-DD, not {value!r}")


# ---------------------------------------------------------------------------------------------- operations
@dataclass(frozen=True)
class OperationUsage:
    """What the documented operations use in a schema.

    coordinates: selected fields, passed arguments, input types of variables and arguments with all their
    fields, enums (with all values) reached as a field's type or inside an input, directives, and every
    named type on the way. output_types: named types a selection can return, so a value or member added to
    them can reach a response. field_args: every argument of a selected field, passed or not, so a changed
    default value reaches the operation even where it omits the argument."""

    coordinates: frozenset[str] = frozenset()
    output_types: frozenset[str] = frozenset()
    field_args: frozenset[str] = frozenset()
    # What the documented requests really send and name: input fields given a value (by the documented
    # variables, <Operation>.variables.json, or by literals), type names written in the documents, and the
    # scalar and enum types of what is selected or sent.
    sent_input_fields: frozenset[str] = frozenset()
    written_types: frozenset[str] = frozenset()
    leaf_types: frozenset[str] = frozenset()


class _UsageCollector(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.coordinates: set[str] = set()
        self.output_types: set[str] = set()
        self.field_args: set[str] = set()
        self.fields: list[str | None] = []
        self._inputs_seen: set[str] = set()
        self.sent_input_fields: set[str] = set()
        self.written_types: set[str] = set()
        self.leaf_types: set[str] = set()
        self.variables: dict[str, Any] = {}

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.type_info.get_parent_type()
        definition = self.type_info.get_field_def()
        if parent is None or definition is None:
            self.fields.append(None)
            return
        coordinate = f"{parent.name}.{node.name.value}"
        self.fields.append(coordinate)
        self.coordinates.update((parent.name, coordinate))
        self.field_args.update(f"{coordinate}({name}:)" for name in definition.args)
        returned = get_named_type(definition.type)
        self.coordinates.add(returned.name)
        self.output_types.add(returned.name)
        if is_leaf_type(returned):
            self.leaf_types.add(returned.name)
        if isinstance(returned, GraphQLEnumType):
            self.coordinates.update(f"{returned.name}.{value}" for value in returned.values)

    def leave_field(self, *_args: Any) -> None:
        self.fields.pop()

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        argument = self.type_info.get_argument()
        directive = self.type_info.get_directive()
        if argument is None:
            return
        owner = f"@{directive.name}" if directive is not None else (self.fields[-1] if self.fields else None)
        if owner is not None:
            self.coordinates.add(f"{owner}({node.name.value}:)")
        self._input(argument.type)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        variable_type = self.type_info.get_input_type()
        if variable_type is not None:
            self._input(variable_type)
            self.written_types.add(get_named_type(variable_type).name)
            self._sent(variable_type, self.variables.get(node.variable.name.value))

    def enter_object_field(self, node: ObjectFieldNode, *_args: Any) -> None:
        parent = self.type_info.get_parent_input_type()
        if parent is not None:
            named = get_named_type(parent)
            self.sent_input_fields.add(f"{named.name}.{node.name.value}")
            field_type = self.type_info.get_input_type()
            if field_type is not None and is_leaf_type(get_named_type(field_type)):
                self.leaf_types.add(get_named_type(field_type).name)

    def _sent(self, input_type: GraphQLInputType, value: Any) -> None:
        """Record the input fields a documented variable value gives, recursively."""
        named = get_named_type(input_type)
        if is_leaf_type(named):
            self.leaf_types.add(named.name)
        if isinstance(named, GraphQLInputObjectType) and isinstance(value, dict):
            for name, item in value.items():
                if name in named.fields:
                    self.sent_input_fields.add(f"{named.name}.{name}")
                    self._sent(named.fields[name].type, item)
        elif isinstance(value, list):
            for item in value:
                self._sent(input_type, item)

    def enter_directive(self, _node: DirectiveNode, *_args: Any) -> None:
        directive = self.type_info.get_directive()
        if directive is not None:
            self.coordinates.add(f"@{directive.name}")

    def enter_inline_fragment(self, _node: InlineFragmentNode, *_args: Any) -> None:
        self._condition()

    def enter_fragment_definition(self, _node: FragmentDefinitionNode, *_args: Any) -> None:
        self._condition()

    def _condition(self) -> None:
        condition = self.type_info.get_type()
        if condition is not None:
            self.coordinates.add(get_named_type(condition).name)
            self.written_types.add(get_named_type(condition).name)

    def _input(self, input_type: GraphQLInputType) -> None:
        named: GraphQLNamedType = get_named_type(input_type)
        if named.name in self._inputs_seen:
            return
        self._inputs_seen.add(named.name)
        self.coordinates.add(named.name)
        if isinstance(named, GraphQLEnumType):
            self.coordinates.update(f"{named.name}.{value}" for value in named.values)
        elif isinstance(named, GraphQLInputObjectType):
            for name, input_field in named.fields.items():
                self.coordinates.add(f"{named.name}.{name}")
                self._input(input_field.type)


def operation_usage(schema: GraphQLSchema, operations: Path | None = None) -> OperationUsage:
    """What the operations in a folder (*.graphql; default schemas/operations) use in `schema`."""
    folder = default_operations_dir() if operations is None else operations
    if not folder.is_dir():
        raise DriftError(f"{folder}: no such operations folder")
    type_info = TypeInfo(schema)
    collector = _UsageCollector(type_info)
    for path in sorted(folder.glob("*.graphql")):
        try:
            document = parse(path.read_text(encoding="utf-8"))
        except GraphQLError as error:
            raise DriftError(f"{_located(str(path), error)}: not a valid operation: {error.message}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise DriftError(f"{path}: cannot read it: {_one_line(str(error))}") from None
        collector.variables = _documented_variables(path)
        visit(document, TypeInfoVisitor(type_info, collector))
    return OperationUsage(
        frozenset(collector.coordinates),
        frozenset(collector.output_types),
        frozenset(collector.field_args),
        frozenset(collector.sent_input_fields),
        frozenset(collector.written_types),
        frozenset(collector.leaf_types),
    )


def _documented_variables(operation: Path) -> dict[str, Any]:
    """The documented example variables of an operation (`<name>.variables.json` beside it), if any."""
    path = operation.with_suffix(".variables.json")
    if not path.is_file():
        return {}
    try:
        variables = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DriftError(f"{path}: not valid JSON: {_one_line(str(error))}") from None
    if not isinstance(variables, dict):
        raise DriftError(f"{path}: the variables must be a JSON object")
    return variables


# ---------------------------------------------------------------------------------------------- changes
_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
_ARG = rf"@?{_NAME}(?:\.{_NAME})?\({_NAME}:\)"
# graphql-core's description formats (find_schema_changes), first match wins. `path` is the changed element;
# `other` a second element named by the change (union member, interface).
_DESCRIPTIONS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"^Field (?P<path>{_NAME}\.{_NAME}) ",
        rf"^(?:A required|An optional) field (?P<path>{_NAME}\.{_NAME}) was added\.",
        rf"^(?:A required|An optional) argument (?P<path>{_ARG}) was added\.",
        rf"^Argument (?P<path>{_ARG}) ",
        rf"^(?P<path>{_ARG}|{_NAME}\.{_NAME}) (?:defaultValue was removed|has changed defaultValue|added a)",
        rf"^Enum value (?P<path>{_NAME}\.{_NAME}) was ",
        rf"^Description of argument (?P<field>{_NAME}\.{_NAME})\((?P<arg>{_NAME})\) has changed",
        rf"^Description of (?:field |input-field |enum value )?(?P<path>{_NAME}(?:\.{_NAME})?) has changed",
        # graphql-core names a directive argument's description change @directive(directive).
        rf"^Description of (?P<path>@{_NAME})(?:\({_NAME}\))? has changed",
        rf"^Directive (?P<path>@{_NAME}) was ",
        rf"^Repeatable flag was (?:removed from|added to) (?P<path>@{_NAME})\.",
        rf"^{_NAME} was (?:removed from|added to) (?P<path>@{_NAME})\.",
        rf"^(?P<other>{_NAME}) was (?:added to|removed from) union type (?P<path>{_NAME})\.",
        rf"^(?P<other>{_NAME}) added to interfaces implemented by (?P<path>{_NAME})\.",
        rf"^(?P<path>{_NAME}) no longer implements interface (?P<other>{_NAME})\.",
        rf"^Standard scalar (?P<path>{_NAME}) was removed",
        rf"^(?P<path>{_NAME}) (?:was removed|was added)\.$",
        rf"^(?P<path>{_NAME}) changed from ",
    )
)


def change_coordinates(description: str) -> tuple[str, str | None]:
    """(schema coordinate of the changed element, another element the change names or None) from a
    graphql-core change description; ("", None) for a description it does not recognise."""
    for pattern in _DESCRIPTIONS:
        match = pattern.match(description)
        if match is None:
            continue
        found = match.groupdict()
        path = f"{found['field']}({found['arg']}:)" if found.get("field") else found["path"]
        return path, found.get("other")
    return "", None


def _container(path: str) -> str:
    """`T.f` for `T.f(a:)`, `@d` for `@d(a:)`, `T` for `T.f`."""
    return path.split("(")[0] if "(" in path else path.split(".")[0]


def affects(change_type: str, path: str, other: str | None, usage: OperationUsage) -> bool:
    """Whether a change reaches what the documented operations send or receive."""
    if not path:
        return True  # a description this module cannot read: do not claim it is harmless
    if change_type in {"REQUIRED_INPUT_FIELD_ADDED", "REQUIRED_ARG_ADDED", "REQUIRED_DIRECTIVE_ARG_ADDED"}:
        # The operations do not send the new value, so they fail validation from now on.
        return _container(path) in usage.coordinates
    if change_type == "VALUE_ADDED_TO_ENUM":
        # A new value of an enum the operations select can come back in a response they were written
        # without; for an enum they only send, nothing they do changes.
        return _container(path) in usage.output_types
    if change_type in {"TYPE_ADDED_TO_UNION", "IMPLEMENTED_INTERFACE_ADDED"}:
        abstract = path if change_type == "TYPE_ADDED_TO_UNION" else other
        return abstract in usage.output_types
    if change_type in {"ARG_DEFAULT_VALUE_CHANGE", "ARG_DEFAULT_VALUE_ADDED"}:
        return path in usage.coordinates or path in usage.field_args
    if change_type in {"FIELD_REMOVED", "FIELD_CHANGED_KIND"} and _is_input_field(path, usage):
        # An input field the documented requests leave out can go or change without them noticing.
        return path in usage.sent_input_fields
    if change_type in {"TYPE_REMOVED", "TYPE_CHANGED_KIND"}:
        # An object type the operations only reach through fields may be renamed (brands do: Spain's
        # EspAccountUserType); the fields that now return another type are judged on their own.
        return path in usage.written_types or path in usage.leaf_types
    return path in usage.coordinates or (other is not None and other in usage.coordinates)


def _is_input_field(path: str, usage: OperationUsage) -> bool:
    container = path.split(".")[0]
    return "(" not in path and "." in path and any(f.startswith(f"{container}.") for f in usage.sent_input_fields)


_RETYPED = re.compile(r"changed type from (?P<old>\S+) to (?P<new>\S+?)\.$")


def _same_shape_retyping(description: str, old: GraphQLSchema, new: GraphQLSchema) -> bool:
    """An output field now returning another object type with the same wrapping (or stricter nullability):
    a selection written for the old type still validates or fails on its own fields, not on this change."""
    match = _RETYPED.search(description)
    if match is None:
        return False
    try:
        old_type = type_from_ast(old, parse_type(match["old"]))
        new_type = type_from_ast(new, parse_type(match["new"]))
    except GraphQLError:
        return False
    if old_type is None or new_type is None:
        return False
    old_levels, old_named = _nullability_levels(old_type)
    new_levels, new_named = _nullability_levels(new_type)
    same_lists = len(old_levels) == len(new_levels)
    no_looser = all(new or not old for old, new in zip(old_levels, new_levels, strict=False))
    return same_lists and no_looser and is_composite_type(old_named) and is_composite_type(new_named)


def _nullability_levels(type_: GraphQLType) -> tuple[list[bool], GraphQLNamedType]:
    """Whether each list level, then the named type, is non-null; and the named type."""
    levels, non_null = [], False
    while isinstance(type_, GraphQLWrappingType):
        if is_non_null_type(type_):
            non_null = True
        else:
            levels.append(non_null)
            non_null = False
        type_ = type_.of_type
    levels.append(non_null)
    return levels, cast(GraphQLNamedType, type_)


def compare(
    old: GraphQLSchema,
    new: GraphQLSchema,
    *,
    approved: Sequence[Approval] | Path | None = None,
    operations_dir: Path | None = None,
) -> list[SchemaChange]:
    """Every change from `old` to `new` (both sliced first), ordered BREAKING, DANGEROUS, SAFE, then by path.

    approved: approvals, or an approvals file; None reads schemas/approved-changes.toml (none if it is
    absent). operations_dir: the documented operations (default schemas/operations), read against `old`.
    Raises DriftError for a malformed approvals file or operation."""
    old_slice, new_slice = slice_schema(old), slice_schema(new)
    approvals = _approvals(approved)
    usage = operation_usage(old_slice, operations_dir)
    changes = []
    for found in find_schema_changes(old_slice, new_slice):
        kind = found.type
        level = (
            "BREAKING"
            if isinstance(kind, BreakingChangeType)
            else "DANGEROUS"
            if isinstance(kind, DangerousChangeType)
            else "SAFE"
        )
        path, other = change_coordinates(found.description)
        approval = next((a for a in approvals if a.path == path and a.type == kind.name), None)
        affected = affects(kind.name, path, other, usage)
        if affected and kind.name == "FIELD_CHANGED_KIND" and _same_shape_retyping(found.description, old, new):
            affected = False
        changes.append(SchemaChange(level, kind.name, path, found.description, affected, approval))
    return sorted(changes, key=lambda c: (LEVELS.index(c.level), c.path, c.type, c.description))


def _approvals(approved: Sequence[Approval] | Path | None) -> Sequence[Approval]:
    if approved is None:
        path = default_approvals_path()
        return load_approvals(path) if path.is_file() else []
    if isinstance(approved, Path):
        return load_approvals(approved)
    return approved


@dataclass
class Totals:
    by_level: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    approved: int = 0
    affecting: int = 0
    unapproved_breaking: int = 0

    @classmethod
    def of(cls, changes: Iterable[SchemaChange]) -> Totals:
        totals = cls()
        for change in changes:
            totals.by_level[change.level] += 1
            totals.approved += change.approved is not None
            totals.affecting += change.affects_documented_operation
            totals.unapproved_breaking += change.unapproved_breaking
        return totals

    def as_json(self) -> dict[str, int]:
        return {
            **{level.lower(): count for level, count in self.by_level.items()},
            "total": sum(self.by_level.values()),
            "approved": self.approved,
            "affecting_documented_operations": self.affecting,
        }

    def line(self) -> str:
        total = sum(self.by_level.values())
        if not total:
            return "no changes"
        counts = ", ".join(f"{count} {level.lower()}" for level, count in self.by_level.items())
        return (
            f"{total} change{'s' if total != 1 else ''}: {counts}; {self.unapproved_breaking} breaking not "
            f"approved; {self.affecting} affecting a documented operation"
        )


def format_text(changes: Sequence[SchemaChange]) -> str:
    lines = []
    width = min(PATH_COLUMN, max((len(change.path) for change in changes), default=0))
    for change in changes:
        markers = ""
        if change.affects_documented_operation:
            markers += f" {AFFECTS_MARKER}"
        if change.approved is not None:
            markers += f" [approved: {change.approved.reason} ({change.approved.date})]"
        description = change.description.replace("\n", "\\n")
        lines.append(f"{change.level:<9}  {change.path or '?':<{width}}  {change.type}: {description}{markers}")
    lines.append(Totals.of(changes).line())
    return "\n".join(lines) + "\n"


def format_json(changes: Sequence[SchemaChange]) -> str:
    totals = Totals.of(changes)
    report = {
        "schema_version": JSON_SCHEMA_VERSION,
        "changes": [change.as_json() for change in changes],
        "totals": totals.as_json(),
        "unapproved_breaking": totals.unapproved_breaking,
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------- CLI
PROG = "kraken-contract schema"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse reporting a bad command line in one line (and no usage block)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Pull a target's schema, or diff two schemas, restricted to the documented slice "
        "(the root fields of the four documented operations and every type reachable from them).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    pull = commands.add_parser(
        "pull",
        help="introspect a target and print its slice in canonical SDL",
        description="Introspect URL (authenticated with the KRAKEN_* variables the suite uses) and write the "
        "documented slice of its schema in canonical SDL.",
    )
    pull.add_argument("--url", required=True, help="the GraphQL endpoint")
    pull.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    diff = commands.add_parser(
        "diff",
        help="report the changes from OLD to NEW; exit 1 on a breaking change not approved",
        description="Report every change from OLD to NEW (each an SDL .graphql file, an introspection .json "
        "file or an http(s) URL), sliced first. Exit 1 when a BREAKING change is not approved, else 0.",
    )
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument("--approved", metavar="FILE", help=f"approved changes (default: schemas/{APPROVALS_FILE})")
    diff.add_argument(
        "--operations", metavar="DIR", help="documented operations, *.graphql (default: schemas/operations)"
    )
    return parser


def schema_main(argv: list[str]) -> int:
    """`kraken-contract schema ...` (argv after the word `schema`): 0 ok, 1 unapproved breaking change,
    2 bad input or configuration."""
    parser = _parser()
    if not argv:
        parser.print_help()
        return 2
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 2
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "pull":
            return _pull(args.url, args.out)
        return _diff(args)
    except DriftError as error:
        print(f"{PROG} {args.command}: {error}", file=sys.stderr)
        return 2


def _pull(url: str, out: str | None) -> int:
    schema = load_schema_source(url)
    if not has_documented_fields(schema):
        raise DriftError(f"{url} has none of the documented root fields ({_root_field_list()})")
    sdl = canonical_sdl(slice_schema(schema))
    if out is None:
        sys.stdout.write(sdl)
        return 0
    try:
        Path(out).write_text(sdl, encoding="utf-8")
    except OSError as error:
        raise DriftError(f"{out}: cannot write it: {error.strerror or error}") from None
    print(f"wrote the documented slice of {url} to {out}", file=sys.stderr)
    return 0


def _diff(args: argparse.Namespace) -> int:
    approvals = _approvals(Path(args.approved) if args.approved else None)
    operations = Path(args.operations) if args.operations else None
    schemas = []
    for source in (args.old, args.new):
        schema = load_schema_source(source)
        if not has_documented_fields(schema):
            raise DriftError(f"{source} has none of the documented root fields ({_root_field_list()})")
        schemas.append(schema)
    changes = compare(schemas[0], schemas[1], approved=approvals, operations_dir=operations)
    sys.stdout.write(format_json(changes) if args.format == "json" else format_text(changes))
    if any(change.unapproved_breaking for change in changes):
        if args.format == "text":
            print(
                f"breaking changes not approved: accept them in {args.approved or 'schemas/' + APPROVALS_FILE}"
                " or fix the schema",
                file=sys.stderr,
            )
        return 1
    return 0


def _root_field_list() -> str:
    return ", ".join(f"{root.title()}.{name}" for root, names in ROOT_FIELDS.items() for name in names)


def _located(source: str, error: GraphQLError) -> str:
    location = error.locations[0] if error.locations else None
    return f"{source}:{location.line}:{location.column}" if location else source


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
