"""The target's schema by introspection, and the pinned (documented) schema."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_client_schema,
    build_schema,
    get_introspection_query,
)
from graphql.utilities.print_schema import print_type

from kraken_contract.client import KrakenAPI
from kraken_contract.resources import pinned_schema_path


@cache
def pinned_schema() -> GraphQLSchema:
    return build_schema(pinned_schema_path().read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Introspection:
    """The target's schema, or why it could not be read."""

    schema: GraphQLSchema | None
    problem: str = ""


def introspect(api: KrakenAPI) -> Introspection:
    """Introspect the target. Input-value deprecation is asked for first; servers that do not know the
    argument get the classic query."""
    problem = ""
    for input_value_deprecation in (True, False):
        query = get_introspection_query(descriptions=True, input_value_deprecation=input_value_deprecation)
        exchange = api.execute(query, valid=False)
        data = exchange.data
        if isinstance(data, dict) and isinstance(data.get("__schema"), dict) and not exchange.errors:
            try:
                return Introspection(build_client_schema(data))  # type: ignore[arg-type]
            except (TypeError, ValueError) as error:
                return Introspection(None, f"the introspection result is not a valid schema: {error}")
        messages = "; ".join(str(e.get("message", e)) for e in exchange.errors if isinstance(e, dict))
        problem = f"introspection is disabled or failed on the target (HTTP {exchange.status}: {messages or 'no data'})"
    return Introspection(None, problem)


def object_fields(schema: GraphQLSchema, type_name: str) -> dict[str, GraphQLField]:
    found = schema.type_map.get(type_name)
    if isinstance(found, GraphQLObjectType | GraphQLInterfaceType):
        return dict(found.fields)
    return {}


def input_type(schema: GraphQLSchema, name: str) -> GraphQLInputObjectType | None:
    found = schema.type_map.get(name)
    return found if isinstance(found, GraphQLInputObjectType) else None


def enum_values(schema: GraphQLSchema, name: str) -> set[str] | None:
    found = schema.type_map.get(name)
    return set(found.values) if isinstance(found, GraphQLEnumType) else None


def enum_values_of(schema: GraphQLSchema | None) -> dict[str, set[str]]:
    """Every enum's values in a schema, by enum name (none for an unknown schema)."""
    if schema is None:
        return {}
    return {name: set(t.values) for name, t in schema.type_map.items() if isinstance(t, GraphQLEnumType)}


def type_sdl(schema: GraphQLSchema, name: str) -> str:
    """A type as SDL, to show in a failure message, or a note that the schema has no such type."""
    found = schema.type_map.get(name)
    return print_type(found) if found is not None else f"(the schema has no type {name})"
