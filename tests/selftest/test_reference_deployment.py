"""The reference deployment behaves as the facts file describes, and each switch really changes it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import requests

from kraken_contract.reference import SWITCHES, ReferenceConfig, ReferenceDeployment, UnknownSwitch
from kraken_contract.reference.app import build_app
from kraken_contract.reference.server import serve_main
from kraken_contract.reference.store import Store
from kraken_contract.reference.tokens import TokenIssuer
from kraken_contract.resources import operation_text, package_data

REGISTER = operation_text("RegisterPushNotificationBinding")
DELETE = operation_text("DeletePushNotificationBinding")
# Every field of the payload (the documented operation asks only for what the suite needs).
OBTAIN_TOKEN = """
mutation ObtainKrakenToken($input: ObtainJSONWebTokenInput!) {
    obtainKrakenToken(input: $input) { token refreshToken refreshExpiresIn payload }
}
"""
VIEWER = operation_text("Viewer")
REGISTER_WITH_ID = """
mutation Register($input: RegisterPushNotificationBindingInput!) {
  registerPushNotificationBinding(input: $input) {
    pushNotificationBinding {
      id token registeredAt expiresAt user { id givenName } application { id service }
    }
  }
}
"""
FORGING_SECRET = "a-secret-that-is-not-the-deployments-own-32+"
UTC_MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


class Client:
    """Plain requests against one deployment, authenticated as the primary user unless told otherwise."""

    def __init__(self, deployment: ReferenceDeployment) -> None:
        self.deployment = deployment
        self.url = deployment.url
        self.environment = deployment.environment()
        self.session = requests.Session()
        self.jwt = deployment.tokens.mint(deployment.seed.user_with_role("primary").id)[0]

    def post(self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = "") -> Any:
        """The response; auth "" means the primary user's `JWT <token>`, None means no header."""
        headers = {} if auth is None else {"Authorization": auth or f"JWT {self.jwt}"}
        return self.session.post(self.url, json={"query": query, "variables": variables or {}}, headers=headers)

    def register(self, token: str | None = None, *, auth: str | None = "", **fields: Any) -> dict[str, Any]:
        fields.setdefault("bundleId", "test.app.bundle.id")
        variables = {"input": {"token": new_token() if token is None else token, **fields}}
        return self.post(REGISTER, variables, auth=auth).json()

    def delete(self, token: str, *, auth: str | None = "") -> dict[str, Any]:
        return self.post(DELETE, {"input": {"token": token}}, auth=auth).json()


def new_token() -> str:
    return f"device-{uuid.uuid4().hex}"


def binding_of(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    binding = body["data"]["registerPushNotificationBinding"]["pushNotificationBinding"]
    assert isinstance(binding, dict)
    return binding


def only_error(body: dict[str, Any], field: str | None = None) -> dict[str, Any]:
    """The single error of a response; with `field`, that field must be null in data."""
    assert len(body.get("errors", [])) == 1, body
    if field is not None:
        assert body["data"] == {field: None}, body
    error = body["errors"][0]
    assert isinstance(error, dict)
    return error


def error_code(body: dict[str, Any], field: str | None = None) -> str:
    return str(only_error(body, field)["extensions"]["errorCode"])


@pytest.fixture(scope="module")
def deployment_with() -> Iterator[Callable[..., Client]]:
    """Clients of started deployments, one per set of switches, all stopped (in parallel) at the end."""
    started: dict[frozenset[str], Client] = {}

    def client(*switches: str) -> Client:
        key = frozenset(switches)
        if key not in started:
            started[key] = Client(ReferenceDeployment(ReferenceConfig(key)).start())
        return started[key]

    yield client
    with ThreadPoolExecutor(max_workers=max(len(started), 1)) as pool:
        list(pool.map(lambda each: each.deployment.stop(), started.values()))


@pytest.fixture(scope="module")
def kraken(deployment_with: Callable[..., Client]) -> Client:
    return deployment_with()


# ---------------------------------------------------------------------------------------------- the API
def test_obtain_token_with_api_key_returns_a_valid_token_and_its_payload(kraken: Client) -> None:
    body = kraken.post(OBTAIN_TOKEN, {"input": {"APIKey": kraken.environment["KRAKEN_API_KEY"]}}, auth=None)
    result = body.json()["data"]["obtainKrakenToken"]
    assert jwt.decode(result["token"], options={"verify_signature": False}) == result["payload"]
    assert result["payload"]["exp"] - result["payload"]["iat"] == 3600
    assert result["refreshExpiresIn"] == pytest.approx(datetime.now(UTC).timestamp() + 7 * 86400, abs=60)
    assert kraken.post(VIEWER, auth=result["token"]).json()["data"]["viewer"]["givenName"] == "John"


def test_obtain_token_with_refresh_token_returns_a_new_token(kraken: Client) -> None:
    first = kraken.post(OBTAIN_TOKEN, {"input": {"APIKey": kraken.environment["KRAKEN_API_KEY"]}}).json()
    refresh_token = first["data"]["obtainKrakenToken"]["refreshToken"]
    body = kraken.post(OBTAIN_TOKEN, {"input": {"refreshToken": refresh_token}}, auth=None).json()
    assert body["data"]["obtainKrakenToken"]["payload"]["sub"] == "1001"


def test_viewer_is_the_authenticated_user(kraken: Client) -> None:
    secondary = kraken.environment["KRAKEN_SECONDARY_JWT"]
    assert kraken.post(VIEWER).json() == {"data": {"viewer": {"givenName": "John", "familyName": "Doe"}}}
    assert kraken.post(VIEWER, auth=secondary).json()["data"]["viewer"]["familyName"] == "Roe"


def test_register_answers_the_documented_shape(kraken: Client) -> None:
    token = new_token()
    binding = binding_of(kraken.register(token))
    assert binding["user"] == {"givenName": "John", "familyName": "Doe"}
    assert binding["application"] == {
        "bundleId": "test.app.bundle.id",
        "description": "some-description",
        "name": "Kraken Test App",
        "service": "GCM",
    }
    assert binding["token"] == token
    registered_at = datetime.fromisoformat(binding["registeredAt"])
    assert abs(registered_at - datetime.now(UTC)) < timedelta(seconds=30)


@pytest.mark.parametrize("scheme", ["JWT ", ""])
def test_register_accepts_both_authorization_forms(kraken: Client, scheme: str) -> None:
    binding_of(kraken.register(auth=scheme + kraken.jwt))


@pytest.mark.parametrize("token", ["ÄÖÜ-日本語-🚀", "tab\tnewline\nnul\x00bell\x07", "x" * 4096, "  padded  ", "ﬁ"])
def test_register_stores_and_echoes_any_nonblank_token_exactly(kraken: Client, token: str) -> None:
    assert binding_of(kraken.register(token))["token"] == token
    assert kraken.delete(token) == {"data": {"deletePushNotificationBinding": {"status": "SUCCESSFUL"}}}


def test_delete_succeeds_once_then_fails_with_5411(kraken: Client) -> None:
    token = new_token()
    binding_of(kraken.register(token))
    assert kraken.delete(token)["data"]["deletePushNotificationBinding"]["status"] == "SUCCESSFUL"
    error = only_error(kraken.delete(token), "deletePushNotificationBinding")
    assert error["extensions"] == {
        "errorType": "APPLICATION",
        "errorCode": "KT-CT-5411",
        "errorDescription": "",
    }
    assert error["path"] == ["deletePushNotificationBinding"]


def test_delete_of_a_never_registered_token_fails_with_5411(kraken: Client) -> None:
    assert error_code(kraken.delete(new_token()), "deletePushNotificationBinding") == "KT-CT-5411"


def test_another_user_cannot_delete_a_binding_but_the_owner_can(kraken: Client) -> None:
    token = new_token()
    binding_of(kraken.register(token))
    secondary = kraken.environment["KRAKEN_SECONDARY_JWT"]
    assert error_code(kraken.delete(token, auth=secondary)) == "KT-CT-5411"
    assert kraken.delete(token)["data"]["deletePushNotificationBinding"]["status"] == "SUCCESSFUL"


def test_reregistering_updates_the_binding_in_place(kraken: Client) -> None:
    variables = {"input": {"token": new_token(), "bundleId": "test.app.bundle.id"}}
    first = kraken.post(REGISTER_WITH_ID, variables).json()
    second = kraken.post(REGISTER_WITH_ID, variables).json()
    first_binding, second_binding = binding_of(first), binding_of(second)
    assert second_binding["id"] == first_binding["id"]
    assert second_binding["registeredAt"] >= first_binding["registeredAt"]


def test_reregistering_another_users_token_moves_it_to_the_caller(kraken: Client) -> None:
    token = new_token()
    binding_of(kraken.register(token))
    moved = binding_of(kraken.register(token, auth=kraken.environment["KRAKEN_SECONDARY_JWT"]))
    assert moved["user"] == {"givenName": "Jane", "familyName": "Roe"}
    assert error_code(kraken.delete(token)) == "KT-CT-5411"


def test_shared_bundle_with_service_picks_that_application(kraken: Client) -> None:
    ambiguous = kraken.environment["KRAKEN_AMBIGUOUS_BUNDLE_ID"]
    for service in ("APNS", "GCM"):
        binding = binding_of(kraken.register(bundleId=ambiguous, service=service))
        assert binding["application"]["service"] == service


def test_fcm_provider_with_no_fcm_application_is_rejected_with_4004(kraken: Client) -> None:
    body = kraken.register(externalProvider="FCM")
    assert error_code(body, "registerPushNotificationBinding") == "KT-RF-4004"


# ---------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "KT-CT-1112"),
        ("JWT not-a-jwt", "KT-CT-1111"),
        ("not-a-jwt", "KT-CT-1111"),
        (
            jwt.encode({"sub": "1001", "iat": 1, "exp": 2**40}, FORGING_SECRET, algorithm="HS256"),
            "KT-CT-1111",
        ),
    ],
)
def test_bad_authorization_fails_with_an_authorization_error(
    kraken: Client, authorization: str | None, code: str
) -> None:
    for operation, field in ((VIEWER, "viewer"), (REGISTER, "registerPushNotificationBinding")):
        variables = {"input": {"token": new_token(), "bundleId": "test.app.bundle.id"}}
        error = only_error(kraken.post(operation, variables, auth=authorization).json(), field)
        assert error["extensions"]["errorCode"] == code
        assert error["extensions"]["errorType"] == "AUTHORIZATION"
        assert error["path"] == [field]


def test_missing_header_error_is_the_documented_one(kraken: Client) -> None:
    error = only_error(kraken.post(VIEWER, auth=None).json(), "viewer")
    assert error["message"] == "'Authorization' header not provided."
    assert error["extensions"]["errorDescription"] == (
        "You must provide the AUTHORIZATION header while executing the query/mutation."
    )


def test_token_of_an_unknown_user_fails_with_1111(kraken: Client) -> None:
    stranger = kraken.deployment.tokens.mint(9999)[0]
    assert error_code(kraken.post(VIEWER, auth=stranger).json(), "viewer") == "KT-CT-1111"


def test_expired_token_fails_with_1124_and_registers_nothing(kraken: Client) -> None:
    token = new_token()
    body = kraken.register(token, auth=kraken.environment["KRAKEN_EXPIRED_JWT"])
    assert error_code(body, "registerPushNotificationBinding") == "KT-CT-1124"
    assert kraken.deployment.store.binding(token) is None


@pytest.mark.parametrize(
    ("credentials", "code", "description"),
    [
        ({"APIKey": "no-such-key"}, "KT-CT-1139", "Authentication failed."),
        ({"refreshToken": "no-such-token"}, "KT-CT-1135", "Please make sure the refresh token is correct."),
        ({"APIKey": "reference-api-key-john-doe", "refreshToken": "x"}, "KT-CT-1135", None),
        ({}, "KT-CT-1135", None),
    ],
)
def test_bad_credentials_fail_with_validation_errors(
    kraken: Client, credentials: dict[str, str], code: str, description: str | None
) -> None:
    body = kraken.post(OBTAIN_TOKEN, {"input": credentials}, auth=None).json()
    error = only_error(body, "obtainKrakenToken")
    assert (error["message"], error["extensions"]["errorType"]) == ("Invalid data.", "VALIDATION")
    assert error["extensions"]["errorCode"] == code
    if description is not None:
        assert error["extensions"]["errorDescription"] == description


def test_expired_refresh_token_fails_with_1134(kraken: Client) -> None:
    kraken.deployment.store.save_refresh_token("stale-refresh", 1001, datetime.now(UTC) - timedelta(seconds=1))
    body = kraken.post(OBTAIN_TOKEN, {"input": {"refreshToken": "stale-refresh"}}, auth=None).json()
    assert error_code(body, "obtainKrakenToken") == "KT-CT-1134"


@pytest.mark.parametrize("token", ["", " ", "\t\n "])
def test_blank_token_fails_with_4001_naming_the_input_field(kraken: Client, token: str) -> None:
    error = only_error(kraken.register(token), "registerPushNotificationBinding")
    assert error["extensions"]["errorCode"] == "KT-RF-4001"
    assert error["extensions"]["validationErrors"][0]["inputPath"] == ["input", "token"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"token": "x" * 4097}, "KT-RF-4002"),
        ({"token": "lone-\ud800-surrogate"}, "KT-RF-4007"),
        ({"service": "apns"}, "KT-CT-5429"),
        ({"service": "ANDROID_FCM"}, "KT-CT-5429"),  # not a value of the pinned enum
        ({"externalProvider": "pinpoint"}, "KT-RF-4003"),
        ({"externalProvider": "FCM", "service": "GCM"}, "KT-CT-5430"),
        ({"bundleId": "no.such.bundle"}, "KT-RF-4004"),
        ({"bundleId": "energy.octopus.shared"}, "KT-CT-5428"),
        ({"bundleId": "energy.octopus.shared", "service": "APNS_SANDBOX"}, "KT-RF-4004"),
    ],
)
def test_invalid_registration_fails_with_its_code_and_null_data(
    kraken: Client, fields: dict[str, str], code: str
) -> None:
    body = kraken.register(**fields)
    assert error_code(body, "registerPushNotificationBinding") == code


def test_documented_messages_of_the_push_codes(kraken: Client) -> None:
    messages = {
        "KT-CT-5428": "Multiple applications match the given bundle ID.",
        "KT-CT-5429": "Invalid push notification service.",
        "KT-CT-5430": "Invalid push notification service for the external provider.",
    }
    bodies = [
        kraken.register(bundleId="energy.octopus.shared"),
        kraken.register(service="Apns"),
        kraken.register(externalProvider="FCM", service="APNS"),
    ]
    assert {error_code(body): only_error(body)["message"] for body in bodies} == messages


def test_unexpected_exception_is_a_graphql_error_not_a_500(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_user_id: int) -> None:
        raise RuntimeError("database on fire")

    with ReferenceDeployment() as deployment:
        monkeypatch.setattr(deployment.store, "user", broken)
        response = Client(deployment).post(VIEWER)
    assert response.status_code == 200
    error = only_error(response.json(), "viewer")
    assert (error["message"], error["extensions"]["errorCode"]) == ("Internal error.", "KT-RF-5000")


# ---------------------------------------------------------------------------------------------- HTTP
@pytest.mark.parametrize(
    "query",
    [
        'mutation { registerPushNotificationBinding(input: {token: "t"}) { __typename } }',
        "{ viewer { noSuchField } }",
        "{ viewer { givenName }",
    ],
)
def test_request_errors_are_200_json_with_kraken_extensions(kraken: Client, query: str) -> None:
    response = kraken.post(query)
    assert (response.status_code, response.headers["content-type"]) == (200, "application/json")
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["errorCode"] == "KT-RF-4000"
    assert body["errors"][0]["extensions"]["errorType"] == "VALIDATION"


def test_invalid_datetime_variable_is_a_request_error(kraken: Client) -> None:
    body = kraken.register(expiresAt="next tuesday")
    assert "data" not in body
    assert error_code(body) == "KT-RF-4000"


def test_mutation_over_get_is_405_and_not_executed(kraken: Client) -> None:
    token = new_token()
    variables = json.dumps({"input": {"token": token, "bundleId": "test.app.bundle.id"}})
    response = kraken.session.get(
        kraken.url, params={"query": REGISTER, "variables": variables}, headers={"Authorization": kraken.jwt}
    )
    assert (response.status_code, response.headers["content-type"]) == (405, "application/json")
    assert error_code(response.json()) == "KT-RF-4005"
    assert kraken.deployment.store.binding(token) is None


def test_query_over_get_runs_also_without_trailing_slash(kraken: Client) -> None:
    response = kraken.session.get(
        kraken.url.rstrip("/"), params={"query": VIEWER}, headers={"Authorization": kraken.jwt}
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["givenName"] == "John"


def test_body_that_is_not_json_gets_a_json_error(kraken: Client) -> None:
    response = kraken.session.post(kraken.url, data="{", headers={"Content-Type": "application/json"})
    assert (response.status_code, error_code(response.json())) == (200, "KT-RF-4000")


# ---------------------------------------------------------------------------------------------- time
def test_datetimes_are_utc_with_microseconds(kraken: Client) -> None:
    binding = binding_of(kraken.register())
    assert UTC_MICROSECONDS.match(binding["registeredAt"])
    assert UTC_MICROSECONDS.match(binding["expiresAt"])


def test_expiry_defaults_to_90_days_after_registration(kraken: Client) -> None:
    binding = binding_of(kraken.register())
    lifetime = datetime.fromisoformat(binding["expiresAt"]) - datetime.fromisoformat(binding["registeredAt"])
    assert lifetime == timedelta(days=90)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("2027-06-01T12:00:00.123456+02:00", "2027-06-01T10:00:00.123456+00:00"),
        ("2027-06-01T12:00:00Z", "2027-06-01T12:00:00.000000+00:00"),
        ("2027-06-01T12:00:00", "2027-06-01T12:00:00.000000+00:00"),
    ],
)
def test_requested_expiry_is_the_same_instant_in_utc(kraken: Client, requested: str, expected: str) -> None:
    assert binding_of(kraken.register(expiresAt=requested))["expiresAt"] == expected


# ---------------------------------------------------------------------------------------------- switches
def test_unknown_switch_is_rejected_naming_the_valid_ones() -> None:
    with pytest.raises(UnknownSwitch, match=r"unknown switch 'no-such-fault'; valid switches: .*tz-z"):
        ReferenceConfig(frozenset({"no-such-fault"}))
    assert issubclass(UnknownSwitch, ValueError)


def test_faults_name_clauses_of_the_contract_and_variants_name_none() -> None:
    clauses = tomllib.loads(package_data("clauses.toml").read_text(encoding="utf-8"))["clause"]
    clause_ids = {clause["id"] for clause in clauses}
    for switch in SWITCHES.values():
        if switch.kind == "fault":
            assert switch.expected_clauses and set(switch.expected_clauses) <= clause_ids, switch
        else:
            assert (switch.group, switch.expected_clauses) == ("conformant", ()), switch


@pytest.mark.parametrize("name", list(SWITCHES))
def test_every_switch_builds_a_servable_app(name: str) -> None:
    build_app(Store(), TokenIssuer(), frozenset({name}))


def test_switches_combine(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("tz-z", "no-fraction", "echo-lowercase-token")
    binding = binding_of(client.register("MiXeD"))
    assert binding["token"] == "mixed"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", binding["registeredAt"])


def test_schema_fault_edits_the_served_schema(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("schema-rename-binding-token")
    introspection = '{ __type(name: "PushNotificationBindingType") { fields { name } } }'
    fields = {field["name"] for field in client.post(introspection).json()["data"]["__type"]["fields"]}
    assert "deviceToken" in fields and "token" not in fields
    assert error_code(client.register()) == "KT-RF-4000"  # the documented operation no longer validates
    renamed = REGISTER_WITH_ID.replace("id token", "id deviceToken")
    body = client.post(renamed, {"input": {"token": "t-1", "bundleId": "test.app.bundle.id"}}).json()
    assert body["data"]["registerPushNotificationBinding"]["pushNotificationBinding"]["deviceToken"] == "t-1"


def test_echo_fault_changes_the_token(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("echo-truncate-token")
    assert binding_of(client.register("y" * 300))["token"] == "y" * 128


def test_identity_fault_ignores_the_service(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("identity-service-ignored")
    ambiguous = client.environment["KRAKEN_AMBIGUOUS_BUNDLE_ID"]
    assert binding_of(client.register(bundleId=ambiguous, service="GCM"))["application"]["service"] == "APNS"


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("time-epoch", r"^\d{10}$"),
        ("time-naive", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$"),
    ],
)
def test_time_format_faults(deployment_with: Callable[..., Client], name: str, pattern: str) -> None:
    assert re.match(pattern, binding_of(deployment_with(name).register())["registeredAt"])


def test_time_fault_moves_registration_a_day_back(deployment_with: Callable[..., Client]) -> None:
    binding = binding_of(deployment_with("time-stale-registeredAt").register())
    age = datetime.now(UTC) - datetime.fromisoformat(binding["registeredAt"])
    assert timedelta(hours=23) < age < timedelta(hours=25)


def test_idempotency_fault_rejects_reregistration(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("reregister-rejected")
    binding_of(client.register("again"))
    error = only_error(client.register("again"), "registerPushNotificationBinding")
    assert (error["message"], error["extensions"]["errorCode"]) == ("Token already registered.", "KT-RF-4090")


def test_validation_fault_picks_the_first_ambiguous_application(
    deployment_with: Callable[..., Client],
) -> None:
    client = deployment_with("ambiguous-picks-first")
    binding = binding_of(client.register(bundleId=client.environment["KRAKEN_AMBIGUOUS_BUNDLE_ID"]))
    assert binding["application"]["service"] == "APNS"


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("5xx-long-token", {"token": "z" * 256}),
        ("5xx-control-characters", {"token": "bell\x07"}),
        ("5xx-unknown-bundle", {"bundleId": "no.such.bundle"}),
        ("5xx-validation-error", {"bundleId": None}),
    ],
)
def test_robustness_faults_answer_a_bare_500(
    deployment_with: Callable[..., Client], name: str, fields: dict[str, Any]
) -> None:
    client = deployment_with(name)
    variables = {"input": {"token": new_token(), "bundleId": "test.app.bundle.id", **fields}}
    response = client.post(REGISTER, variables)
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert response.headers["content-type"].startswith("text/plain")


def test_robustness_fault_crashes_on_reregistration(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("5xx-reregister")
    binding_of(client.register("twice"))
    assert client.post(REGISTER, {"input": {"token": "twice", "bundleId": "test.app.bundle.id"}}).status_code == 500


def test_error_fault_malforms_every_error_code(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("error-malformed-errorCode")
    assert error_code(client.post(VIEWER, auth=None).json()) == "KT_CT_1112"
    assert error_code(client.post("{ nope }").json()) == "KT_RF_4000"


def test_error_fault_returns_data_beside_the_error(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("error-beside-data")
    body = client.register("  ")
    assert body["data"]["registerPushNotificationBinding"]["pushNotificationBinding"]["token"] == "  "
    assert body["errors"][0]["extensions"]["errorCode"] == "KT-RF-4001"
    assert body["errors"][0]["path"] == ["registerPushNotificationBinding"]


def test_error_fault_adds_a_notice_to_success(deployment_with: Callable[..., Client]) -> None:
    body = deployment_with("error-beside-success").register()
    assert body["data"]["registerPushNotificationBinding"]["pushNotificationBinding"]
    assert body["errors"][0]["extensions"]["errorCode"] == "KT-RF-2000"


def test_authentication_fault_accepts_expired_tokens(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("auth-expired-accepted")
    binding_of(client.register(auth=client.environment["KRAKEN_EXPIRED_JWT"]))


def test_authentication_fault_accepts_forged_tokens(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("auth-forged-accepted")
    forged = jwt.encode({"sub": "1001", "iat": 1, "exp": 2**40}, FORGING_SECRET, algorithm="HS256")
    binding_of(client.register(auth=forged))


def test_isolation_fault_lets_another_user_delete(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("isolation-delete-any-user")
    binding_of(client.register("mine"))
    body = client.delete("mine", auth=client.environment["KRAKEN_SECONDARY_JWT"])
    assert body["data"]["deletePushNotificationBinding"]["status"] == "SUCCESSFUL"


def test_lifecycle_fault_reports_failed(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("delete-reports-failed")
    binding_of(client.register("gone"))
    assert client.delete("gone")["data"]["deletePushNotificationBinding"]["status"] == "FAILED"


def test_transport_fault_executes_mutations_over_get(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("get-executes-mutation")
    variables = json.dumps({"input": {"token": "by-get", "bundleId": "test.app.bundle.id"}})
    response = client.session.get(
        client.url, params={"query": REGISTER, "variables": variables}, headers={"Authorization": client.jwt}
    )
    assert response.status_code == 200
    assert client.deployment.store.binding("by-get") is not None


def test_transport_fault_labels_json_as_html(deployment_with: Callable[..., Client]) -> None:
    response = deployment_with("content-type-text-html").post(VIEWER)
    assert response.headers["content-type"].startswith("text/html")
    assert response.json()["data"]["viewer"]["givenName"] == "John"


# ---------------------------------------------------------------------------------------------- variants
@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("tz-minus-0500", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}-05:00$"),
        ("tz-z", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"),
        ("no-fraction", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$"),
    ],
)
def test_datetime_variants(deployment_with: Callable[..., Client], name: str, pattern: str) -> None:
    binding = binding_of(deployment_with(name).register())
    assert re.match(pattern, binding["registeredAt"]) and re.match(pattern, binding["expiresAt"])


def test_no_date_header_variant(deployment_with: Callable[..., Client], kraken: Client) -> None:
    assert "date" in kraken.post(VIEWER).headers
    assert "date" not in deployment_with("no-date-header").post(VIEWER).headers


def test_extra_schema_variant(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("extra-schema")
    enum = client.post('{ __type(name: "NotifiableApplicationService") { enumValues { name } } }').json()
    assert {value["name"] for value in enum["data"]["__type"]["enumValues"]} >= {"ANDROID_FCM", "IOS_FCM"}
    assert client.post("{ rateLimitInfo { pointsAllowanceRateLimit { limit } } }").json()["data"]
    fcm = binding_of(client.register(bundleId="energy.octopus.fcm", externalProvider="FCM", locale="en"))
    assert fcm["application"]["service"] == "IOS_FCM"
    binding_of(client.register())


def test_rate_limited_variant_refuses_every_eighth_post(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("rate-limited")
    bodies = [client.post(VIEWER).json() for _ in range(16)]
    limited = [index for index, body in enumerate(bodies) if "data" not in body]
    assert limited == [7, 15]
    assert only_error(bodies[7])["message"] == "Too many requests."
    assert only_error(bodies[7])["extensions"]["errorType"] == "SERVICE_AVAILABILITY"
    assert error_code(bodies[7]) == "KT-CT-1199"


def test_validation_400_variant(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("validation-400")
    response = client.post("{ nope }")
    assert (response.status_code, error_code(response.json())) == (400, "KT-RF-4000")
    assert client.post(VIEWER, auth=None).status_code == 200


def test_no_introspection_variant(deployment_with: Callable[..., Client]) -> None:
    body = deployment_with("no-introspection").post("{ __schema { queryType { name } } }").json()
    assert error_code(body) == "KT-RF-4000"


def test_auth_bare_only_variant(deployment_with: Callable[..., Client]) -> None:
    client = deployment_with("auth-bare-only")
    assert client.environment["KRAKEN_AUTH_SCHEME"] == "bare"
    assert error_code(client.post(VIEWER).json()) == "KT-CT-1111"
    assert client.post(VIEWER, auth=client.jwt).json()["data"]["viewer"]["givenName"] == "John"


# ---------------------------------------------------------------------------------------------- deployment
def test_environment_points_at_the_deployment(kraken: Client) -> None:
    environment = kraken.environment
    assert environment["KRAKEN_URL"] == kraken.url
    assert re.match(r"^http://127\.0\.0\.1:\d+/v1/graphql/$", kraken.url)
    assert environment["KRAKEN_AUTH_SCHEME"] == "JWT"
    assert environment["KRAKEN_BUNDLE_ID"] == "test.app.bundle.id"
    expired = jwt.decode(environment["KRAKEN_EXPIRED_JWT"], options={"verify_signature": False})
    assert expired["exp"] == pytest.approx(datetime.now(UTC).timestamp() - 3600, abs=60)


def test_deployments_run_side_by_side_with_separate_data(deployment_with: Callable[..., Client]) -> None:
    first, second = deployment_with(), deployment_with("tz-z")
    token = new_token()
    binding_of(first.register(token))
    assert error_code(second.delete(token)) == "KT-CT-5411"
    assert error_code(second.post(VIEWER, auth=first.jwt).json()) == "KT-CT-1111"


def test_file_database_keeps_bindings_across_restarts(tmp_path: Any) -> None:
    config = ReferenceConfig(db_path=str(tmp_path / "reference.sqlite3"))
    with ReferenceDeployment(config) as deployment:
        binding_of(Client(deployment).register("kept"))
    with ReferenceDeployment(config) as deployment:
        assert Client(deployment).delete("kept")["data"]["deletePushNotificationBinding"]["status"] == "SUCCESSFUL"


def test_list_faults_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_main(["--list-faults"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "GROUP", "DESCRIPTION"]
    assert len(lines) == len(SWITCHES) + 1


def test_serve_rejects_an_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_main(["--fault", "nope"]) == 2
    assert capsys.readouterr().err == "kraken-contract serve: unknown fault 'nope' (see --list-faults)\n"


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_serve_prints_exports_and_stops_cleanly_on_ctrl_c() -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; from kraken_contract.reference.server import serve_main; sys.exit(serve_main())",
        "--port",
        "0",
        "--fault",
        "tz-z",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        exports = dict(process.stdout.readline().removeprefix("export ").strip().split("=", 1) for _ in range(7))
        assert "(Ctrl-C to stop)" in process.stderr.readline()
        response = requests.post(exports["KRAKEN_URL"], json={"query": VIEWER}, timeout=5)
        assert error_code(response.json()) == "KT-CT-1112"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        process.kill()
