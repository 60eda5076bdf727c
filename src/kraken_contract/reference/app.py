"""The reference GraphQL server: the pinned SDL served by Ariadne on Starlette, with switchable faults.

Every switch is one `if "<name>" in self.switches` at the spot where that deployment bug (or conformant
variation) would live in a real server.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import count
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import jwt
from ariadne import MutationType, ObjectType, QueryType, ScalarType, make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.exceptions import HttpError
from ariadne.graphql import graphql
from ariadne.types import GraphQLResult
from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLResolveInfo,
    NameNode,
    OperationType,
    StringValueNode,
    TypeDefinitionNode,
    ValueNode,
    get_operation_ast,
    located_error,
    parse,
    parse_type,
    print_ast,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kraken_contract.reference.store import Application, Binding, Store, User
from kraken_contract.reference.tokens import REFRESH_TOKEN_LIFETIME, TokenIssuer, new_refresh_token
from kraken_contract.resources import pinned_schema_path

if TYPE_CHECKING:
    _LoggerAdapter = logging.LoggerAdapter[logging.Logger]
else:
    _LoggerAdapter = logging.LoggerAdapter

GRAPHQL_PATH = "/v1/graphql/"
MAX_TOKEN_LENGTH = 4096
DEFAULT_BINDING_LIFETIME = timedelta(days=90)
DEFAULT_EXTERNAL_PROVIDER = "PINPOINT"
PROVIDER_SERVICES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"PINPOINT": ("GCM", "APNS", "APNS_SANDBOX"), "FCM": ("ANDROID_FCM", "IOS_FCM")}
)
US_EASTERN_STANDARD_TIME = timezone(timedelta(hours=-5))
SHAPE_FAULTS = frozenset({"shape-extra-field", "shape-missing-field", "shape-enum-lowercase"})


# ---------------------------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class ErrorEntry:
    code: str
    type: str
    message: str
    description: str
    input_field: str | None = None  # the input field the error is about: adds `validationErrors`


# Documented codes where the public docs give one (see the facts file); KT-RF-NNNN is the reference's own
# namespace for behaviour the docs leave open, so nobody mistakes it for a documented code.
ERRORS: Mapping[str, ErrorEntry] = MappingProxyType(
    {
        "unauthorized": ErrorEntry(
            "KT-CT-1111",
            "AUTHORIZATION",
            "Unauthorized.",
            "The viewer is not authorized to execute the query/mutation. Check authentication or roles/permissions.",
        ),
        "header-missing": ErrorEntry(
            "KT-CT-1112",
            "AUTHORIZATION",
            "'Authorization' header not provided.",
            "You must provide the AUTHORIZATION header while executing the query/mutation.",
        ),
        "token-expired": ErrorEntry(
            "KT-CT-1124",
            "AUTHORIZATION",
            "Signature of the JWT has expired.",
            "The Kraken Token has expired; obtain a new one with obtainKrakenToken.",
        ),
        "refresh-token-expired": ErrorEntry(
            "KT-CT-1134", "VALIDATION", "Invalid data.", "The refresh token has expired.", "refreshToken"
        ),
        "refresh-token-invalid": ErrorEntry(
            "KT-CT-1135",
            "VALIDATION",
            "Invalid data.",
            "Please make sure the refresh token is correct.",
            "refreshToken",
        ),
        "credentials-not-one": ErrorEntry(
            "KT-CT-1135",
            "VALIDATION",
            "Invalid data.",
            "Provide exactly one of 'APIKey' and 'refreshToken'.",
        ),
        "api-key-invalid": ErrorEntry("KT-CT-1139", "VALIDATION", "Invalid data.", "Authentication failed.", "APIKey"),
        "too-many-requests": ErrorEntry(
            "KT-CT-1199",
            "SERVICE_AVAILABILITY",
            "Too many requests.",
            "The request was not executed because the rate limit was reached. Try again later.",
        ),
        "binding-not-found": ErrorEntry(
            "KT-CT-5411",
            "APPLICATION",
            "Invalid token or no push notification binding found for the given account user.",
            "",
        ),
        "bundle-ambiguous": ErrorEntry(
            "KT-CT-5428",
            "VALIDATION",
            "Multiple applications match the given bundle ID.",
            "Several notifiable applications share this bundle ID. Provide 'service' to identify a single application.",
            "service",
        ),
        "service-invalid": ErrorEntry(
            "KT-CT-5429",
            "VALIDATION",
            "Invalid push notification service.",
            "The service must be an exact, case-sensitive match.",
            "service",
        ),
        "service-not-of-provider": ErrorEntry(
            "KT-CT-5430",
            "VALIDATION",
            "Invalid push notification service for the external provider.",
            "'service' must belong to 'externalProvider': PINPOINT supports 'GCM', 'APNS' and "
            "'APNS_SANDBOX'; FCM supports 'ANDROID_FCM' and 'IOS_FCM'.",
            "service",
        ),
        # The message of this one is graphql-core's own (what exactly is wrong with the request).
        "request-invalid": ErrorEntry(
            "KT-RF-4000",
            "VALIDATION",
            "Invalid request.",
            "The request is not a valid GraphQL request for this schema.",
        ),
        "token-blank": ErrorEntry("KT-RF-4001", "VALIDATION", "Invalid data.", "The token must not be blank.", "token"),
        "token-too-long": ErrorEntry(
            "KT-RF-4002",
            "VALIDATION",
            "Invalid data.",
            f"The token must be at most {MAX_TOKEN_LENGTH} characters long.",
            "token",
        ),
        "provider-unknown": ErrorEntry(
            "KT-RF-4003",
            "VALIDATION",
            "Invalid data.",
            "'externalProvider' must be 'PINPOINT' or 'FCM'.",
            "externalProvider",
        ),
        "bundle-unknown": ErrorEntry(
            "KT-RF-4004",
            "VALIDATION",
            "No application matches the given bundle ID.",
            "No notifiable application has this bundle ID (with this service and external provider).",
            "bundleId",
        ),
        "mutation-over-get": ErrorEntry(
            "KT-RF-4005",
            "VALIDATION",
            "Mutations cannot be sent with GET.",
            "Send mutations with POST; GET only runs queries.",
        ),
        "method-not-allowed": ErrorEntry(
            "KT-RF-4006",
            "VALIDATION",
            "Method not allowed.",
            "Send GraphQL requests with POST (queries may also use GET).",
        ),
        "token-not-unicode": ErrorEntry(
            "KT-RF-4007",
            "VALIDATION",
            "Invalid data.",
            "The token must be Unicode text (it contains an unpaired surrogate).",
            "token",
        ),
        "not-found": ErrorEntry("KT-RF-4040", "VALIDATION", "Not found.", f"The GraphQL endpoint is {GRAPHQL_PATH}."),
        "internal-error": ErrorEntry(
            "KT-RF-5000",
            "APPLICATION",
            "Internal error.",
            "An unexpected error occurred while resolving this field.",
        ),
        # Only raised by faults.
        "token-already-registered": ErrorEntry("KT-RF-4090", "VALIDATION", "Token already registered.", "", "token"),
        "deprecation-notice": ErrorEntry(
            "KT-RF-2000",
            "APPLICATION",
            "Registering without 'service' is deprecated.",
            "Send 'service' with every registration; it will become required.",
        ),
    }
)


class KrakenError(GraphQLError):
    """An error the API answers with: message and Kraken `extensions` from the ERRORS table."""

    def __init__(self, name: str, *, message: str | None = None) -> None:
        entry = ERRORS[name]
        extensions: dict[str, Any] = {
            "errorType": entry.type,
            "errorCode": entry.code,
            "errorDescription": entry.description,
        }
        if entry.input_field:
            extensions["validationErrors"] = [
                {"message": entry.description or entry.message, "inputPath": ["input", entry.input_field]}
            ]
        super().__init__(message or entry.message, extensions=extensions)
        self.code = entry.code
        self.error_type = entry.type
        self.description = entry.description


class SimulatedCrash(Exception):
    """Raised by robustness faults: the request is answered with a bare HTTP 500."""


def _kraken_error_of(error: GraphQLError) -> KrakenError | None:
    if isinstance(error, KrakenError):
        return error
    if isinstance(error.original_error, KrakenError):
        return error.original_error
    return None


def _is_unexpected(error: GraphQLError) -> bool:
    """A Python exception inside a resolver (not an answer the API gives on purpose)."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | SimulatedCrash)


class _UnexpectedErrorsOnly(_LoggerAdapter):
    """Ariadne logs every GraphQL error with a traceback; only unexpected ones are worth it."""

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, GraphQLError) and not _is_unexpected(msg):
            return
        super().error(msg, *args, **kwargs)


# ---------------------------------------------------------------------------------------------- scalars
def parse_datetime(value: Any) -> datetime:
    """DateTime input: ISO 8601 (Z allowed); without an offset it is taken as UTC."""
    if not isinstance(value, str):
        raise ValueError(f"DateTime must be an ISO 8601 string, not {type(value).__name__}.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"Invalid ISO 8601 date-time: {value!r}.") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def parse_datetime_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> datetime:
    if not isinstance(node, StringValueNode):
        raise ValueError("DateTime must be an ISO 8601 string.")
    return parse_datetime(node.value)


# ---------------------------------------------------------------------------------------------- schema edits
def _with_definition(document: DocumentNode, type_name: str, change: Callable[[Any], Any]) -> DocumentNode:
    definitions = tuple(
        change(definition)
        if isinstance(definition, TypeDefinitionNode) and definition.name.value == type_name
        else definition
        for definition in document.definitions
    )
    return replace(document, definitions=definitions)


def _with_field(
    document: DocumentNode, type_name: str, field_name: str, change: Callable[[Any], Any | None]
) -> DocumentNode:
    """Apply `change` to one field of a type (or input); a change returning None drops the field."""

    def change_type(definition: Any) -> Any:
        fields = []
        for field_node in definition.fields:
            changed = change(field_node) if field_node.name.value == field_name else field_node
            if changed is not None:
                fields.append(changed)
        return replace(definition, fields=tuple(fields))

    return _with_definition(document, type_name, change_type)


def _renamed(new_name: str) -> Callable[[Any], Any]:
    return lambda node: replace(node, name=NameNode(value=new_name))


def _retyped(type_text: str) -> Callable[[Any], Any]:
    return lambda node: replace(node, type=parse_type(type_text))


def _dropped(_node: Any) -> None:
    return None


def _argument_renamed(new_name: str) -> Callable[[Any], Any]:
    def rename(field_node: Any) -> Any:
        arguments = tuple(replace(argument, name=NameNode(value=new_name)) for argument in field_node.arguments)
        return replace(field_node, arguments=arguments)

    return rename


def _without_enum_value(document: DocumentNode, enum_name: str, value_name: str) -> DocumentNode:
    def change_enum(definition: EnumTypeDefinitionNode) -> EnumTypeDefinitionNode:
        values = tuple(value for value in definition.values or () if value.name.value != value_name)
        return replace(definition, values=values)

    return _with_definition(document, enum_name, change_enum)


def _extended(document: DocumentNode, sdl: str) -> DocumentNode:
    return replace(document, definitions=(*document.definitions, *parse(sdl).definitions))


DEPRECATED_POSSIBLE_ERRORS = (
    "The 'possibleErrors' field is deprecated. Use the 'possibleErrors' query or the possible-errors request "
    "header instead. Deprecated on 2025-01-31, scheduled for removal on or after 2025-03-01."
)

EXTRA_SCHEMA_SDL = f'''
extend type PushNotificationBindingType {{
  """Name the user gave the device."""
  deviceName: String
}}

extend type NotifiableApplicationType {{
  iconUrl: String
}}

extend type AccountUserType {{
  title: String
}}

extend input RegisterPushNotificationBindingInput {{
  """Language of the notifications sent to this device."""
  locale: String
}}

extend type RegisterPushNotificationBinding {{
  possibleErrors: [PossibleErrorType] @deprecated(reason: "{DEPRECATED_POSSIBLE_ERRORS}")
}}

extend enum NotifiableApplicationService {{
  """Android (FCM)"""
  ANDROID_FCM

  """iOS (FCM)"""
  IOS_FCM
}}

type PointsAllowanceRateLimitInformation {{
  isBlocked: Boolean
  limit: Int
  remainingPoints: Int
  ttl: Int
  usedPoints: Int
}}

type CombinedRateLimitInformation {{
  pointsAllowanceRateLimit: PointsAllowanceRateLimitInformation
}}

extend type Query {{
  """Information about the viewer's rate limits."""
  rateLimitInfo: CombinedRateLimitInformation
}}
'''


# ---------------------------------------------------------------------------------------------- backend
@dataclass
class RequestContext:
    request: Request
    viewer: User | None = None
    # Errors reported next to data (only the error-beside-* faults add any).
    late_errors: list[GraphQLError] = field(default_factory=list)
    crashed: bool = False


class ReferenceBackend:
    """Schema, resolvers and error formatting of one deployment."""

    def __init__(self, store: Store, tokens: TokenIssuer, switches: frozenset[str]) -> None:
        self.store = store
        self.tokens = tokens
        self.switches = switches
        sdl = print_ast(self._schema_document())
        if "brand-es" in switches:
            sdl = re.sub(r"\bAccountUserType\b", "EspAccountUserType", sdl)
        self.schema = make_executable_schema(sdl, *self._bindables())
        service_enum = self.schema.type_map["NotifiableApplicationService"]
        if not isinstance(service_enum, GraphQLEnumType):
            raise TypeError("NotifiableApplicationService must be an enum")
        # KT-CT-5429: a service is valid when it is exactly one of the served enum's values.
        self.services = frozenset(service_enum.values)

    # ------------------------------------------------------------------ schema
    def _schema_document(self) -> DocumentNode:
        document = parse(pinned_schema_path().read_text(encoding="utf-8"))
        switches = self.switches
        if "brand-es" in switches:
            document = _with_field(document, "RegisterPushNotificationBindingInput", "externalProvider", _dropped)
        if "schema-rename-input-argument" in switches:
            document = _with_field(document, "Mutation", "registerPushNotificationBinding", _argument_renamed("data"))
        binding_type = "PushNotificationBindingType"
        if "schema-drop-binding-expiresAt" in switches:
            document = _with_field(document, binding_type, "expiresAt", _dropped)
        if "schema-rename-binding-token" in switches:
            document = _with_field(document, binding_type, "token", _renamed("deviceToken"))
        if "schema-retype-registeredAt" in switches:
            document = _with_field(document, binding_type, "registeredAt", _retyped("String!"))
        if "schema-nullable-token" in switches:
            document = _with_field(document, binding_type, "token", _retyped("String"))
        if "schema-require-input-field" in switches:
            document = _extended(document, "extend input RegisterPushNotificationBindingInput { deviceName: String! }")
        if "schema-drop-enum-value" in switches:
            document = _without_enum_value(document, "NotifiableApplicationService", "APNS_SANDBOX")
        if "schema-rename-payload-field" in switches:
            document = _with_field(
                document, "RegisterPushNotificationBinding", "pushNotificationBinding", _renamed("binding")
            )
        if "schema-service-as-string" in switches:
            document = _with_field(document, "NotifiableApplicationType", "service", _retyped("String!"))
        if "schema-delete-status-string" in switches:
            document = _with_field(document, "DeletePushNotificationBinding", "status", _retyped("String"))
        if "extra-schema" in switches:
            document = _extended(document, EXTRA_SCHEMA_SDL)
        return document

    def _bindables(self) -> list[Any]:
        query = QueryType()
        query.set_field("viewer", self.resolve_viewer)
        mutation = MutationType()
        mutation.set_field("obtainKrakenToken", self.resolve_obtain_kraken_token)
        mutation.set_field("registerPushNotificationBinding", self.resolve_register)
        mutation.set_field("deletePushNotificationBinding", self.resolve_delete)
        application = ObjectType("NotifiableApplicationType")
        application.set_field("pushNotificationBindings", self.resolve_application_bindings)
        binding = ObjectType("PushNotificationBindingType")
        payload = ObjectType("RegisterPushNotificationBinding")
        datetime_scalar = ScalarType(
            "DateTime",
            serializer=self.format_datetime,
            value_parser=parse_datetime,
            literal_parser=parse_datetime_literal,
        )
        # Schema faults: the resolvers follow the renamed and retyped fields.
        if "schema-rename-input-argument" in self.switches:
            mutation.set_field(
                "registerPushNotificationBinding",
                lambda obj, info, data: self.resolve_register(obj, info, input=data),
            )
        if "schema-rename-binding-token" in self.switches:
            binding.set_field("deviceToken", lambda obj, _info: obj["token"])
        if "schema-retype-registeredAt" in self.switches:
            binding.set_field("registeredAt", lambda obj, _info: self.format_datetime(obj["registeredAt"]))
        if "schema-rename-payload-field" in self.switches:
            payload.set_field("binding", lambda obj, _info: obj["pushNotificationBinding"])
        if "extra-schema" in self.switches:
            query.set_field("rateLimitInfo", self.resolve_rate_limit_info)
        return [query, mutation, application, binding, payload, datetime_scalar]

    # ------------------------------------------------------------------ output
    def format_datetime(self, value: datetime) -> str:
        value = value.astimezone(UTC)
        if "time-epoch" in self.switches:
            return str(int(value.timestamp()))
        if "tz-minus-0500" in self.switches:
            value = value.astimezone(US_EASTERN_STANDARD_TIME)
        if "time-naive" in self.switches:
            value = value.replace(tzinfo=None)
        text = value.isoformat(timespec="seconds" if "no-fraction" in self.switches else "microseconds")
        if "tz-z" in self.switches and text.endswith("+00:00"):
            text = text.removesuffix("+00:00") + "Z"
        return text

    def format_error(self, error: GraphQLError, _debug: bool = False) -> dict[str, Any]:
        """Every error in the Kraken shape: message, locations, path, extensions."""
        kraken_error = _kraken_error_of(error)
        if kraken_error is not None:
            message, extensions = error.message, dict(kraken_error.extensions or {})
        else:
            # graphql-core's own errors: the request (parse, validation, variables) or a field.
            entry_name = "request-invalid" if error.path is None else "internal-error"
            fallback = KrakenError(entry_name)
            message = fallback.message if _is_unexpected(error) else error.message
            extensions = dict(fallback.extensions or {})
            if error.path is None and "plain-validation-errors" in self.switches:
                return dict(error.formatted)
        formatted: dict[str, Any] = {"message": message}
        if error.locations:
            formatted["locations"] = [
                {"line": location.line, "column": location.column} for location in error.locations
            ]
        if error.path:
            formatted["path"] = list(error.path)
        formatted["extensions"] = extensions

        if "error-no-errorCode" in self.switches:
            extensions.pop("errorCode", None)
        if "error-malformed-errorCode" in self.switches and "errorCode" in extensions:
            extensions["errorCode"] = extensions["errorCode"].replace("-", "_")
        if "error-no-errorType" in self.switches:
            extensions.pop("errorType", None)
        if "error-no-extensions" in self.switches:
            del formatted["extensions"]
        return formatted

    def _user_view(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "givenName": user.given_name,
            "familyName": user.family_name,
            "fullName": f"{user.given_name} {user.family_name}",
            "preferredName": user.preferred_name,
            "number": user.number,
            "email": user.email,
            "mobile": user.mobile,
            "landline": user.landline,
            "createdAt": user.created_at,
        }

    def _application_view(self, application: Application) -> dict[str, Any]:
        return {
            "id": application.id,
            "bundleId": application.bundle_id,
            "name": "" if "identity-empty-application-name" in self.switches else application.name,
            "description": application.description,
            "externalProjectId": application.external_project_id,
            "externalProvider": application.external_provider,
            "service": application.service,
        }

    def _binding_view(self, binding: Binding, user: User, application: Application) -> dict[str, Any]:
        if "identity-other-user" in self.switches:
            user = next(other for other in self.store.users() if other.id != user.id)
        if "identity-wrong-application" in self.switches:
            application = next(other for other in self.store.applications() if other.bundle_id != application.bundle_id)
        return {
            "id": binding.id,
            "token": binding.token,
            "registeredAt": binding.registered_at,
            "expiresAt": binding.expires_at,
            "user": self._user_view(user),
            "application": self._application_view(application),
        }

    def _stored_binding_view(self, binding: Binding) -> dict[str, Any]:
        user = self.store.user(binding.user_id)
        application = self.store.application(binding.application_id)
        if user is None or application is None:
            raise LookupError(f"binding {binding.id} refers to a missing user or application")
        return self._binding_view(binding, user, application)

    # ------------------------------------------------------------------ authentication
    def authenticate(self, info: GraphQLResolveInfo) -> User:
        context: RequestContext = info.context
        if context.viewer is None:
            context.viewer = self._user_from_header(context.request.headers.get("authorization", ""))
        return context.viewer

    def _user_from_header(self, header: str) -> User:
        header = header.strip()
        if not header:
            if "auth-missing-header-accepted" in self.switches:
                return self._user_with_role("primary")
            if "auth-missing-header-wrong-code" in self.switches:
                raise KrakenError("unauthorized")
            raise KrakenError("header-missing")
        scheme, _, rest = header.partition(" ")
        token = header
        if scheme.upper() == "JWT" and rest.strip() and "auth-bare-only" not in self.switches:
            token = rest.strip()
        try:
            claims = self.tokens.claims(
                token,
                verify_signature="auth-forged-accepted" not in self.switches,
                verify_expiry="auth-expired-accepted" not in self.switches,
            )
        except jwt.ExpiredSignatureError:
            raise KrakenError("token-expired") from None
        except jwt.InvalidTokenError:
            raise KrakenError("unauthorized") from None
        subject = str(claims.get("sub", ""))
        user = self.store.user(int(subject)) if subject.isdigit() else None
        if user is None:
            raise KrakenError("unauthorized")
        return user

    def _user_with_role(self, role: str) -> User:
        return next(user for user in self.store.users() if user.role == role)

    # ------------------------------------------------------------------ resolvers
    def resolve_viewer(self, _root: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
        return self._user_view(self.authenticate(info))

    def resolve_rate_limit_info(self, _root: Any, _info: GraphQLResolveInfo) -> dict[str, Any]:
        next_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return {
            "pointsAllowanceRateLimit": {
                "isBlocked": False,
                "limit": 50000,
                "remainingPoints": 50000,
                "ttl": int(next_hour.timestamp()),
                "usedPoints": 0,
            }
        }

    def resolve_obtain_kraken_token(
        self, _root: Any, _info: GraphQLResolveInfo, input: dict[str, Any]
    ) -> dict[str, Any]:
        given = {name: value for name, value in input.items() if value is not None}
        if given.keys() == {"APIKey"}:
            user = self.store.user_by_api_key(given["APIKey"])
            if user is None:
                raise KrakenError("api-key-invalid")
        elif given.keys() == {"refreshToken"}:
            issued = self.store.refresh_token(given["refreshToken"])
            if issued is None:
                raise KrakenError("refresh-token-invalid")
            user_id, refresh_expires_at = issued
            if refresh_expires_at <= datetime.now(UTC):
                raise KrakenError("refresh-token-expired")
            found = self.store.user(user_id)
            if found is None:
                raise KrakenError("refresh-token-invalid")
            user = found
        else:
            raise KrakenError("credentials-not-one")
        token, claims = self.tokens.mint(user.id)
        refresh_token = new_refresh_token()
        refresh_expires_at = datetime.now(UTC) + REFRESH_TOKEN_LIFETIME
        self.store.save_refresh_token(refresh_token, user.id, refresh_expires_at)
        return {
            "token": token,
            "refreshToken": refresh_token,
            "refreshExpiresIn": int(refresh_expires_at.timestamp()),
            "payload": claims,
        }

    def resolve_register(self, _root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
        caller = self.authenticate(info)
        context: RequestContext = info.context
        try:
            binding = self._register(info, caller, input)
        except KrakenError as error:
            if "error-beside-data" not in self.switches:
                raise
            context.late_errors.append(located_error(error, info.field_nodes, info.path.as_list()))
            return {"pushNotificationBinding": self._unsaved_binding_view(caller, input)}
        if "error-beside-success" in self.switches:
            notice = KrakenError("deprecation-notice")
            context.late_errors.append(located_error(notice, info.field_nodes, info.path.as_list()))
        if "register-returns-null" in self.switches:
            return {"pushNotificationBinding": None}
        return {"pushNotificationBinding": binding}

    def _register(self, info: GraphQLResolveInfo, caller: User, input: dict[str, Any]) -> dict[str, Any]:
        token = self._checked_token(info, input["token"])
        application = self._application_for(
            info, input["bundleId"], input.get("service"), input.get("externalProvider")
        )
        registered_at = self._registration_time()
        expires_at = self._expiry(registered_at, input.get("expiresAt"))

        existing = self.store.binding(token)
        owner_id = caller.id
        if existing is not None:
            if "reregister-rejected" in self.switches:
                raise KrakenError("token-already-registered")
            if "isolation-reregister-keeps-owner" in self.switches:
                owner_id = existing.user_id
        if "5xx-reregister" in self.switches:
            try:
                binding = self.store.insert_binding(token, owner_id, application.id, registered_at, expires_at)
            except sqlite3.IntegrityError as error:
                raise self._crash(info, "UNIQUE constraint failed: bindings.token") from error
        else:
            binding = self.store.upsert_binding(token, owner_id, application.id, registered_at, expires_at)
        return self._stored_binding_view(binding)

    def _checked_token(self, info: GraphQLResolveInfo, token: str) -> str:
        """The token as it is stored and returned, after validation."""
        if "5xx-long-token" in self.switches and len(token) > 255:
            raise self._crash(info, "value too long for type character varying(255)")
        if "5xx-control-characters" in self.switches and any(
            unicodedata.category(character) == "Cc" for character in token
        ):
            raise self._crash(info, "control character in token")
        if not token.strip() and "accept-empty-token" not in self.switches:
            raise KrakenError("token-blank")
        if len(token) > MAX_TOKEN_LENGTH:
            raise KrakenError("token-too-long")
        if any(0xD800 <= ord(character) <= 0xDFFF for character in token):
            raise KrakenError("token-not-unicode")

        if "echo-lowercase-token" in self.switches:
            token = token.lower()
        if "echo-truncate-token" in self.switches:
            token = token[:128]
        if "echo-strip-token" in self.switches:
            token = token.strip()
        if "echo-normalize-unicode" in self.switches:
            token = unicodedata.normalize("NFKC", token)
        return token

    def _application_for(
        self, info: GraphQLResolveInfo, bundle_id: str, service: str | None, provider: str | None
    ) -> Application:
        if service is not None:
            if "service-case-insensitive" in self.switches:
                service = service.upper()
            if service not in self.services:
                raise KrakenError("service-invalid")
        provider = DEFAULT_EXTERNAL_PROVIDER if provider is None else provider
        if provider not in PROVIDER_SERVICES:
            raise KrakenError("provider-unknown")
        if service is not None and service not in PROVIDER_SERVICES[provider]:
            raise KrakenError("service-not-of-provider")

        candidates = [
            application
            for application in self.store.applications()
            if application.bundle_id == bundle_id and application.external_provider == provider
        ]
        if service is not None and "identity-service-ignored" not in self.switches:
            candidates = [application for application in candidates if application.service == service]
        if not candidates:
            if "accept-unknown-bundle" in self.switches:
                return self.store.applications()[0]
            if "5xx-unknown-bundle" in self.switches:
                raise self._crash(info, "Application.DoesNotExist")
            raise KrakenError("bundle-unknown")
        if len(candidates) > 1 and service is None and "ambiguous-picks-first" not in self.switches:
            raise KrakenError("bundle-ambiguous")
        return candidates[0]

    def _registration_time(self) -> datetime:
        now = datetime.now(UTC)
        if "time-stale-registeredAt" in self.switches:
            return now - timedelta(days=1)
        if "time-future-registeredAt" in self.switches:
            return now + timedelta(hours=1)
        if "time-local-as-utc" in self.switches:
            return now.astimezone(US_EASTERN_STANDARD_TIME).replace(tzinfo=UTC)
        return now

    def _expiry(self, registered_at: datetime, requested: datetime | None) -> datetime:
        if requested is not None and "time-expiry-ignored" not in self.switches:
            if "time-expiry-offset-dropped" in self.switches:
                return requested.replace(tzinfo=UTC)
            return requested
        if "time-expiry-equals-registration" in self.switches:
            return registered_at
        return registered_at + DEFAULT_BINDING_LIFETIME

    def _unsaved_binding_view(self, caller: User, input: dict[str, Any]) -> dict[str, Any]:
        """What a serializer that ignores its own validation would still hand back (error-beside-data)."""
        applications = self.store.applications()
        same_bundle = [application for application in applications if application.bundle_id == input["bundleId"]]
        registered_at = datetime.now(UTC)
        unsaved = Binding(
            id=0,
            token=input["token"],
            user_id=caller.id,
            application_id=0,
            registered_at=registered_at,
            expires_at=input.get("expiresAt") or registered_at + DEFAULT_BINDING_LIFETIME,
        )
        return self._binding_view(unsaved, caller, (same_bundle or applications)[0])

    def resolve_delete(self, _root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
        caller = self.authenticate(info)
        token = input["token"]
        owner_id = None if "isolation-delete-any-user" in self.switches else caller.id
        if "delete-noop" in self.switches:
            existing = self.store.binding(token)
            deleted = existing is not None and owner_id in (None, existing.user_id)
        else:
            deleted = self.store.delete_binding(token, owner_id)
        if not deleted and "delete-unknown-succeeds" not in self.switches:
            raise KrakenError("binding-not-found")
        return {"status": "FAILED" if "delete-reports-failed" in self.switches else "SUCCESSFUL"}

    def resolve_application_bindings(
        self, application: dict[str, Any], info: GraphQLResolveInfo
    ) -> list[dict[str, Any]]:
        """Only the viewer's own bindings: the others belong to other account users."""
        viewer = self.authenticate(info)
        return [
            self._stored_binding_view(binding)
            for binding in self.store.bindings_of_application(application["id"], viewer.id)
        ]

    def _crash(self, info: GraphQLResolveInfo, reason: str) -> SimulatedCrash:
        context: RequestContext = info.context
        context.crashed = True
        return SimulatedCrash(reason)


# ---------------------------------------------------------------------------------------------- HTTP
class _KrakenJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # unpaired surrogates echoed from the request: escape them
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


class KrakenHTTPHandler(GraphQLHTTPHandler):
    """GraphQL over HTTP the Kraken way: JSON and status 200 for everything, mutations only by POST."""

    def __init__(self, backend: ReferenceBackend) -> None:
        super().__init__()
        self.backend = backend
        self.switches = backend.switches
        self._posts = count(1)

    async def handle_request(self, request: Request) -> Response:
        if request.method == "POST":
            if "rate-limited" in self.switches and next(self._posts) % 8 == 0:
                return self.json_response({"errors": [self.formatted_error("too-many-requests")]})
            return await self.graphql_http_server(request)
        if request.method in ("GET", "HEAD"):
            if not request.query_params.get("query"):
                message = "Must provide a query string (?query=...)."
                result = {"errors": [self.formatted_error("request-invalid", message=message)]}
                return await self.create_json_response(request, result, False)
            return await self.graphql_http_server(request)
        if request.method == "OPTIONS":
            return Response(headers={"Allow": "GET, POST, OPTIONS"})
        return self.json_response(
            {"errors": [self.formatted_error("method-not-allowed")]},
            status_code=405,
            headers={"Allow": "GET, POST, OPTIONS"},
        )

    async def graphql_http_server(self, request: Request) -> Response:
        try:
            if request.method == "POST":
                data = await self.extract_data_from_request(request)
            else:
                data = self.extract_data_from_get_request(request)
        except HttpError as error:
            result = {"errors": [self.formatted_error("request-invalid", message=error.message or None)]}
            return await self.create_json_response(request, result, False)

        if request.method != "POST" and _is_mutation(data) and "get-executes-mutation" not in self.switches:
            return self.json_response(
                {"errors": [self.formatted_error("mutation-over-get")]},
                status_code=405,
                headers={"Allow": "POST"},
            )

        context = RequestContext(request)
        success, result = await self.execute_graphql_query(request, data, context_value=context)
        if context.crashed:
            return PlainTextResponse("Internal Server Error", status_code=500)
        if context.late_errors:
            late = [self.backend.format_error(error) for error in context.late_errors]
            result["errors"] = [*result.get("errors", []), *late]
        if self.switches & SHAPE_FAULTS:
            result = {**result, "data": self._reshaped(result.get("data"))}
        return await self.create_json_response(request, result, success)

    def _reshaped(self, value: Any) -> Any:
        """What a hand-written response serializer gets wrong (the shape faults): it adds a field nobody
        asked for, drops one, or writes an enum as it is stored."""
        if isinstance(value, list):
            return [self._reshaped(item) for item in value]
        if not isinstance(value, dict):
            return value
        reshaped = {key: self._reshaped(item) for key, item in value.items()}
        if "shape-extra-field" in self.switches and "pushNotificationBinding" in reshaped:
            reshaped["clientMutationId"] = None
        if "shape-missing-field" in self.switches and "bundleId" in reshaped:
            reshaped.pop("description", None)
        if "shape-enum-lowercase" in self.switches and isinstance(reshaped.get("service"), str):
            reshaped["service"] = reshaped["service"].lower()
        return reshaped

    async def execute_graphql_query(
        self,
        request: Any,
        data: Any,
        *,
        context_value: Any = None,
        query_document: DocumentNode | None = None,
    ) -> GraphQLResult:
        if self.schema is None:
            raise TypeError("schema is not set")
        # Ariadne decides "GET runs queries only" by itself; this is the same, but switchable.
        require_query = request.method != "POST" and "get-executes-mutation" not in self.switches
        return await graphql(
            self.schema,
            data,
            context_value=context_value or RequestContext(request),
            root_value=self.root_value,
            query_document=query_document,
            validation_rules=self.validation_rules,
            require_query=require_query,
            debug=self.debug,
            introspection=self.introspection,
            logger=self.logger,
            error_formatter=self.error_formatter,
        )

    async def create_json_response(self, request: Request, result: dict, success: bool) -> Response:
        # The API guide: "the GraphQL API will always return a 200 response code". A request error
        # (parse, validation, variables) is one where nothing was executed: no data.
        is_request_error = result.get("data") is None
        if is_request_error:
            result = {key: value for key, value in result.items() if key != "data"}
            if "5xx-validation-error" in self.switches:
                return PlainTextResponse("Internal Server Error", status_code=500)
            if "validation-400" in self.switches:
                return self.json_response(result, status_code=400)
        return self.json_response(result)

    def json_response(
        self, payload: dict[str, Any], status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        media_type = "text/html" if "content-type-text-html" in self.switches else "application/json"
        return _KrakenJSONResponse(payload, status_code=status_code, headers=headers, media_type=media_type)

    def formatted_error(self, error_name: str, *, message: str | None = None) -> dict[str, Any]:
        return self.backend.format_error(KrakenError(error_name, message=message))


def _is_mutation(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return False
    try:
        document = parse(data["query"])
    except GraphQLError:
        return False
    operation_name = data.get("operationName")
    operation = get_operation_ast(document, operation_name if isinstance(operation_name, str) else None)
    return operation is not None and operation.operation == OperationType.MUTATION


def build_app(store: Store, tokens: TokenIssuer, switches: frozenset[str]) -> Starlette:
    """The Starlette application of one deployment."""
    backend = ReferenceBackend(store, tokens, switches)
    handler = KrakenHTTPHandler(backend)
    graphql_app = GraphQL(
        backend.schema,
        execute_get_queries=True,
        introspection="no-introspection" not in switches,
        logger=_UnexpectedErrorsOnly(logging.getLogger("kraken_contract.reference"), {}),
        error_formatter=backend.format_error,
        http_handler=handler,
    )

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return handler.json_response({"errors": [handler.formatted_error("not-found")]}, status_code=404)

    return Starlette(
        routes=[Route(GRAPHQL_PATH, graphql_app), Route(GRAPHQL_PATH.rstrip("/"), graphql_app)],
        exception_handlers={404: not_found},
    )
