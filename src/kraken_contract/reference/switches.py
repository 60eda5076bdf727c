"""The reference deployment's switches: one deployment bug each (faults) or a conformant variation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

SwitchKind = Literal["fault", "conformant"]


class UnknownSwitch(ValueError):
    """A switch name that is not in SWITCHES; the message is one line listing the valid names."""


@dataclass(frozen=True)
class Switch:
    name: str
    kind: SwitchKind
    group: str
    description: str
    expected_clauses: tuple[str, ...]


def _fault(name: str, group: str, description: str, *expected_clauses: str) -> Switch:
    return Switch(name, "fault", group, description, expected_clauses)


def _conformant(name: str, description: str) -> Switch:
    return Switch(name, "conformant", "conformant", description, ())


_ALL = (
    # schema: the pinned SDL is edited before the schema is built
    _fault(
        "schema-rename-input-argument",
        "schema",
        "registerPushNotificationBinding's argument is called `data` instead of `input`",
        "PNB-SCHEMA-1",
        "PNB-SCHEMA-8",
    ),
    _fault(
        "schema-drop-binding-expiresAt",
        "schema",
        "PushNotificationBindingType.expiresAt is missing from the schema",
        "PNB-SCHEMA-5",
        "PNB-SCHEMA-8",
        "PNB-DRIFT-1",
    ),
    _fault(
        "schema-rename-binding-token",
        "schema",
        "PushNotificationBindingType.token is renamed deviceToken",
        "PNB-SCHEMA-5",
        "PNB-SCHEMA-8",
    ),
    _fault(
        "schema-retype-registeredAt",
        "schema",
        "PushNotificationBindingType.registeredAt is typed String! instead of DateTime!",
        "PNB-SCHEMA-5",
    ),
    _fault(
        "schema-nullable-token",
        "schema",
        "PushNotificationBindingType.token is a nullable String",
        "PNB-SCHEMA-5",
    ),
    _fault(
        "schema-require-input-field",
        "schema",
        "RegisterPushNotificationBindingInput gains a required field deviceName: String!",
        "PNB-SCHEMA-2",
    ),
    _fault(
        "schema-drop-enum-value",
        "schema",
        "NotifiableApplicationService has lost APNS_SANDBOX",
        "PNB-SCHEMA-7",
    ),
    _fault(
        "schema-rename-payload-field",
        "schema",
        "RegisterPushNotificationBinding.pushNotificationBinding is renamed binding",
        "PNB-SCHEMA-4",
    ),
    _fault(
        "schema-service-as-string",
        "schema",
        "NotifiableApplicationType.service is typed String! instead of the enum",
        "PNB-SCHEMA-6",
    ),
    _fault(
        "schema-delete-status-string",
        "schema",
        "DeletePushNotificationBinding.status is typed String instead of the enum",
        "PNB-SCHEMA-9",
    ),
    # echo
    _fault("echo-lowercase-token", "echo", "the token is stored and returned lower-cased", "PNB-ECHO-1"),
    _fault("echo-truncate-token", "echo", "the token is truncated to 128 characters", "PNB-ECHO-1"),
    _fault("echo-strip-token", "echo", "surrounding whitespace is stripped from the token", "PNB-ROBUST-1"),
    _fault("echo-normalize-unicode", "echo", "the token is NFKC-normalised", "PNB-ROBUST-1"),
    # identity
    _fault("identity-other-user", "identity", "the binding's user is another seeded user", "PNB-USER-1"),
    _fault(
        "identity-wrong-application",
        "identity",
        "the binding's application is the first application of another bundle id",
        "PNB-ECHO-2",
    ),
    _fault(
        "identity-service-ignored",
        "identity",
        "with service given, the first application of the bundle is chosen regardless",
        "PNB-VAL-5",
    ),
    # time
    _fault("time-naive", "time", "DateTimes are written without a UTC offset", "PNB-TIME-1", "PNB-SHAPE-3"),
    _fault("time-epoch", "time", "DateTimes are written as unix epoch seconds strings", "PNB-TIME-1", "PNB-SHAPE-3"),
    _fault("time-stale-registeredAt", "time", "registeredAt is one day in the past", "PNB-TIME-2"),
    _fault("time-future-registeredAt", "time", "registeredAt is one hour in the future", "PNB-TIME-2"),
    _fault(
        "time-local-as-utc",
        "time",
        "registeredAt is the wall time at UTC-05:00 labelled +00:00",
        "PNB-TIME-2",
    ),
    _fault(
        "time-expiry-equals-registration",
        "time",
        "expiresAt defaults to registeredAt instead of a later instant",
        "PNB-TIME-3",
    ),
    _fault("time-expiry-ignored", "time", "a requested expiresAt is ignored", "PNB-TIME-4"),
    _fault(
        "time-expiry-offset-dropped",
        "time",
        "a requested expiresAt loses its offset (its wall time is read as UTC)",
        "PNB-TIME-4",
    ),
    # idempotency
    _fault(
        "reregister-rejected",
        "idempotency",
        "registering a token that already has a binding fails with KT-RF-4090",
        "PNB-IDEM-1",
    ),
    # validation
    _fault("accept-empty-token", "validation", "blank tokens are accepted", "PNB-VAL-1"),
    _fault(
        "accept-unknown-bundle",
        "validation",
        "an unknown bundle id falls back to the first application",
        "PNB-VAL-2",
    ),
    _fault(
        "service-case-insensitive",
        "validation",
        "service is compared case-insensitively ('apns' is accepted)",
        "PNB-VAL-3",
    ),
    _fault(
        "ambiguous-picks-first",
        "validation",
        "a bundle id shared by several applications, without service, silently picks the first",
        "PNB-VAL-4",
    ),
    # robustness: plain HTTP 500s, as an unhandled exception would give
    _fault("5xx-long-token", "robustness", "tokens over 255 characters crash the server (500)", "PNB-HTTP-3"),
    _fault(
        "5xx-control-characters",
        "robustness",
        "tokens with control characters crash the server (500)",
        "PNB-HTTP-3",
        "PNB-FUZZ-1",
    ),
    _fault(
        "5xx-unknown-bundle",
        "robustness",
        "a bundle id that names no application crashes the server (500)",
        "PNB-HTTP-3",
    ),
    _fault(
        "5xx-validation-error",
        "robustness",
        "requests that fail GraphQL validation crash the server (500)",
        "PNB-HTTP-4",
    ),
    _fault(
        "5xx-reregister",
        "robustness",
        "registering an existing token hits the unique constraint and crashes the server (500)",
        "PNB-HTTP-3",
    ),
    # errors: applied to every error the server returns
    _fault("error-no-errorCode", "errors", "error extensions lack errorCode", "PNB-ERR-1"),
    _fault(
        "error-malformed-errorCode",
        "errors",
        "errorCode is written with underscores (KT_CT_5429)",
        "PNB-ERR-1",
    ),
    _fault("error-no-extensions", "errors", "errors carry no extensions at all", "PNB-ERR-1"),
    _fault("error-no-errorType", "errors", "error extensions lack errorType", "PNB-ERR-1"),
    _fault(
        "error-beside-data",
        "errors",
        "a failed registration still returns the unsaved binding in data next to the error",
        "PNB-ERR-2",
    ),
    _fault(
        "error-beside-success",
        "errors",
        "a successful registration also carries a deprecation notice in errors",
        "PNB-ERR-3",
    ),
    # authentication
    _fault(
        "auth-missing-header-accepted",
        "authentication",
        "a request without Authorization acts as the primary user",
        "PNB-AUTH-1",
    ),
    _fault(
        "auth-missing-header-wrong-code",
        "authentication",
        "a request without Authorization fails with KT-CT-1111 instead of KT-CT-1112",
        "PNB-AUTH-1",
    ),
    _fault("auth-forged-accepted", "authentication", "JWT signatures are not verified", "PNB-AUTH-2"),
    _fault("auth-expired-accepted", "authentication", "JWT expiry is not verified", "PNB-AUTH-3"),
    # isolation
    _fault(
        "isolation-delete-any-user",
        "isolation",
        "delete finds the binding by token alone, whoever owns it",
        "PNB-ISO-1",
    ),
    _fault(
        "isolation-reregister-keeps-owner",
        "isolation",
        "re-registering another user's token keeps (and returns) the original owner",
        "PNB-ISO-2",
    ),
    # lifecycle
    _fault(
        "delete-unknown-succeeds",
        "lifecycle",
        "deleting a token that has no binding answers SUCCESSFUL",
        "PNB-LIFE-3",
    ),
    _fault("delete-noop", "lifecycle", "delete answers SUCCESSFUL but deletes nothing", "PNB-LIFE-2"),
    _fault("delete-reports-failed", "lifecycle", "a successful delete answers status FAILED", "PNB-LIFE-1"),
    # transport
    _fault("get-executes-mutation", "transport", "mutations sent with GET are executed", "PNB-HTTP-2"),
    _fault(
        "content-type-text-html",
        "transport",
        "responses are labelled text/html (the body is still JSON)",
        "PNB-HTTP-1",
    ),
    # behaviour
    _fault(
        "register-returns-null",
        "behaviour",
        "the binding is saved but the payload's pushNotificationBinding is null, with no error",
        "PNB-REG-1",
    ),
    _fault(
        "identity-empty-application-name",
        "identity",
        "application.name is returned empty (a missing translation)",
        "PNB-APP-1",
    ),
    # response shape: a hand-written serializer between GraphQL and the wire
    _fault(
        "shape-extra-field",
        "shape",
        "the registration payload carries a clientMutationId nobody asked for",
        "PNB-SHAPE-4",
    ),
    _fault(
        "shape-missing-field",
        "shape",
        "application objects lose their description on the way out",
        "PNB-SHAPE-1",
    ),
    _fault(
        "shape-enum-lowercase",
        "shape",
        "application.service is written as stored, in lower case ('gcm')",
        "PNB-SHAPE-2",
    ),
    # conformant variants: the suite must pass against each
    _conformant("tz-minus-0500", "DateTimes are written at offset -05:00, as in the docs example"),
    _conformant("tz-z", "DateTimes in UTC are written with 'Z' instead of '+00:00'"),
    _conformant("no-fraction", "DateTimes are written without fractional seconds"),
    _conformant("no-date-header", "responses carry no Date header"),
    _conformant(
        "extra-schema",
        "extra fields, types, root fields and enum values (ANDROID_FCM, IOS_FCM) and one FCM application",
    ),
    _conformant("rate-limited", "every 8th POST is answered with KT-CT-1199 'Too many requests.' unexecuted"),
    _conformant("validation-400", "parse, validation and variable errors are answered with HTTP 400"),
    _conformant("no-introspection", "introspection is disabled"),
    _conformant("auth-bare-only", "only the bare token is accepted in Authorization ('JWT <token>' is not)"),
    _conformant(
        "brand-es",
        "the Spain brand's schema: no externalProvider input field, the user type is EspAccountUserType",
    ),
    _conformant(
        "plain-validation-errors",
        "GraphQL parse and validation errors carry no Kraken extensions (as most GraphQL libraries answer)",
    ),
)

SWITCHES: Mapping[str, Switch] = MappingProxyType({switch.name: switch for switch in _ALL})


def checked_switches(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset, or UnknownSwitch naming the first unknown one."""
    selected = frozenset(names)
    for name in sorted(selected):
        if name not in SWITCHES:
            raise UnknownSwitch(f"unknown switch {name!r}; valid switches: {', '.join(SWITCHES)}")
    return selected
