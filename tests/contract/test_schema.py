"""Schema clauses, read from the target by introspection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_required_input_field,
    parse,
    validate,
)

from kraken_contract.clauses import ClauseViolation
from kraken_contract.client import KrakenAPI, binding_of
from kraken_contract.plugin import ClauseNote
from kraken_contract.resources import operation_text
from kraken_contract.schema import Introspection, input_type, object_fields, type_sdl
from kraken_contract.strategies import DOCUMENTED_SERVICES, salted
from kraken_contract.target import Target

REGISTER = "registerPushNotificationBinding"
DELETE = "deletePushNotificationBinding"


@pytest.fixture(scope="module")
def schema(target_introspection: Introspection) -> GraphQLSchema:
    if target_introspection.schema is None:
        pytest.skip(f"{target_introspection.problem}; schema clauses cannot be read")
    return target_introspection.schema


def broken(clause_id: str, problem: str, schema: GraphQLSchema, *type_names: str) -> ClauseViolation:
    shown = "\n".join(type_sdl(schema, name) for name in type_names)
    evidence = "sent: the introspection query\nreceived:\n" + "\n".join("  " + line for line in shown.splitlines())
    return ClauseViolation(clause_id, problem, evidence)


def differences(fields: Mapping[str, Any], expected: Mapping[str, str]) -> dict[str, str]:
    """The expected fields that are missing or typed otherwise, with the type found."""
    return {
        name: str(fields[name].type) if name in fields else "missing"
        for name, type_text in expected.items()
        if name not in fields or str(fields[name].type) != type_text
    }


def mutation_field_type(schema: GraphQLSchema, name: str) -> GraphQLObjectType | None:
    field = (schema.mutation_type.fields if schema.mutation_type else {}).get(name)
    named = get_named_type(field.type) if field else None
    return named if isinstance(named, GraphQLObjectType) else None


@pytest.mark.clause("PNB-SCHEMA-1")
def test_mutation_takes_the_documented_input(schema: GraphQLSchema) -> None:
    field = (schema.mutation_type.fields if schema.mutation_type else {}).get(REGISTER)
    if field is None:
        raise broken("PNB-SCHEMA-1", f"Mutation has no field {REGISTER}", schema, "Mutation")
    argument = field.args.get("input")
    if argument is None or str(argument.type) != "RegisterPushNotificationBindingInput!":
        shown = str(argument.type) if argument else "missing"
        raise broken("PNB-SCHEMA-1", f"argument `input` is {shown}", schema, "Mutation")
    extra_required = [
        name for name, arg in field.args.items() if name != "input" and isinstance(arg.type, GraphQLNonNull)
    ]
    if extra_required:
        raise broken("PNB-SCHEMA-1", f"extra required arguments {extra_required}", schema, "Mutation")


@pytest.mark.clause("PNB-SCHEMA-2")
def test_input_requires_token_and_bundle_id_only(schema: GraphQLSchema) -> None:
    name = "RegisterPushNotificationBindingInput"
    found = input_type(schema, name)
    if found is None:
        raise broken("PNB-SCHEMA-2", f"no input type {name}", schema, name)
    different = differences(found.fields, {"token": "String!", "bundleId": "String!"})
    if different:
        raise broken("PNB-SCHEMA-2", f"the required fields are typed {different}, not String!", schema, name)
    others = [n for n, f in found.fields.items() if n not in ("token", "bundleId") and is_required_input_field(f)]
    if others:
        raise broken("PNB-SCHEMA-2", f"other required fields {others} break the documented variables", schema, name)


@pytest.mark.clause("PNB-SCHEMA-3")
def test_input_has_the_optional_fields(schema: GraphQLSchema) -> None:
    name = "RegisterPushNotificationBindingInput"
    found = input_type(schema, name)
    expected = {"service": "String", "expiresAt": "DateTime", "externalProvider": "String"}
    different = differences(found.fields if found else {}, expected)
    if different:
        raise broken("PNB-SCHEMA-3", f"optional fields differ from the docs: {different}", schema, name)


@pytest.mark.clause("PNB-SCHEMA-4")
def test_payload_has_the_binding(schema: GraphQLSchema, clause_note: ClauseNote) -> None:
    payload = mutation_field_type(schema, REGISTER)
    if payload is None:
        raise broken("PNB-SCHEMA-4", f"{REGISTER} does not return an object type", schema, "Mutation")
    field = payload.fields.get("pushNotificationBinding")
    named = get_named_type(field.type) if field else None
    if not isinstance(named, GraphQLObjectType):
        raise broken("PNB-SCHEMA-4", "the payload has no object field `pushNotificationBinding`", schema, payload.name)
    if named.name != "PushNotificationBindingType":
        clause_note("PNB-SCHEMA-4", f"the binding type is called {named.name}, not PushNotificationBindingType")


def binding_type_name(schema: GraphQLSchema) -> str:
    """The binding type as the mutation's payload reaches it (whatever a brand calls it)."""
    payload = mutation_field_type(schema, REGISTER)
    field = payload.fields.get("pushNotificationBinding") if payload else None
    return get_named_type(field.type).name if field else "PushNotificationBindingType"


@pytest.mark.clause("PNB-SCHEMA-5")
def test_binding_fields_are_typed_as_documented(schema: GraphQLSchema) -> None:
    name = binding_type_name(schema)
    fields = object_fields(schema, name)
    for object_field in ("user", "application"):
        found = fields.get(object_field)
        if (
            found is None
            or not isinstance(found.type, GraphQLNonNull)
            or not isinstance(get_named_type(found.type), GraphQLObjectType)
        ):
            shown = str(found.type) if found else "missing"
            raise broken("PNB-SCHEMA-5", f"`{object_field}` is {shown}, not a non-null object", schema, name)
    expected = {"token": "String!", "registeredAt": "DateTime!", "expiresAt": "DateTime!"}
    different = differences(fields, expected)
    if different:
        raise broken("PNB-SCHEMA-5", f"fields differ from {expected}: {different}", schema, name)
    user = get_named_type(fields["user"].type)
    names = differences(object_fields(schema, user.name), {"givenName": "String!", "familyName": "String!"})
    if names:
        raise broken("PNB-SCHEMA-5", f"user name fields are {names}, not String!", schema, user.name)


@pytest.mark.clause("PNB-SCHEMA-6")
def test_application_fields_are_typed_as_documented(schema: GraphQLSchema) -> None:
    binding_fields = object_fields(schema, binding_type_name(schema))
    application = get_named_type(binding_fields["application"].type) if "application" in binding_fields else None
    name = application.name if application else "NotifiableApplicationType"
    fields = object_fields(schema, name)
    expected = {
        "bundleId": "String!",
        "name": "String!",
        "description": "String!",
        "service": "NotifiableApplicationService!",
    }
    different = differences(fields, expected)
    if different:
        raise broken("PNB-SCHEMA-6", f"fields differ from {expected}: {different}", schema, name)


@pytest.mark.clause("PNB-SCHEMA-7")
def test_service_enum_has_the_documented_values(schema: GraphQLSchema, clause_note: ClauseNote) -> None:
    name = "NotifiableApplicationService"
    found = schema.type_map.get(name)
    if not isinstance(found, GraphQLEnumType):
        raise broken("PNB-SCHEMA-7", f"{name} is not an enum", schema, name)
    missing = [value for value in DOCUMENTED_SERVICES if value not in found.values]
    if missing:
        raise broken("PNB-SCHEMA-7", f"documented values missing: {missing}", schema, name)
    extra = sorted(set(found.values) - set(DOCUMENTED_SERVICES))
    if extra:
        clause_note("PNB-SCHEMA-7", f"extra values (allowed): {', '.join(extra)}")


@pytest.mark.clause("PNB-SCHEMA-8")
def test_documented_operation_validates(
    target_introspection: Introspection, kraken_api: KrakenAPI, target: Target
) -> None:
    document = operation_text("RegisterPushNotificationBinding")
    if target_introspection.schema is not None:
        errors = validate(target_introspection.schema, parse(document))
        if errors:
            problem = "; ".join(error.message for error in errors)
            raise ClauseViolation("PNB-SCHEMA-8", problem, f"sent: the documented operation\n{document}")
        return
    # Introspection is disabled: the server itself must accept the documented operation.
    exchange = kraken_api.register(salted("0" * 56).upper(), target.bundle_id)
    if binding_of(exchange) is None:
        raise ClauseViolation(
            "PNB-SCHEMA-8",
            f"introspection is disabled and the documented operation failed: {target_introspection.problem}",
            exchange.describe(),
        )


@pytest.mark.clause("PNB-SCHEMA-9")
def test_delete_mutation_is_typed_as_documented(schema: GraphQLSchema) -> None:
    field = (schema.mutation_type.fields if schema.mutation_type else {}).get(DELETE)
    argument = field.args.get("input") if field else None
    if argument is None or str(argument.type) != "DeletePushNotificationBindingInput!":
        raise broken(
            "PNB-SCHEMA-9",
            f"{DELETE}(input: DeletePushNotificationBindingInput!) is missing",
            schema,
            "Mutation",
        )
    found = input_type(schema, "DeletePushNotificationBindingInput")
    if found is None or differences(found.fields, {"token": "String!"}):
        raise broken("PNB-SCHEMA-9", "the input has no `token: String!`", schema, "DeletePushNotificationBindingInput")
    payload = mutation_field_type(schema, DELETE)
    status = payload.fields.get("status") if payload else None
    status_type = get_named_type(status.type) if status else None
    if not isinstance(status_type, GraphQLEnumType) or not {"SUCCESSFUL", "FAILED"} <= set(status_type.values):
        shown = payload.name if payload else "Mutation"
        raise broken("PNB-SCHEMA-9", "`status` is not an enum with SUCCESSFUL and FAILED", schema, shown)
