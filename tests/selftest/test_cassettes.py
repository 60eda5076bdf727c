"""Cassettes: GraphQL-aware matching, scrubbing, the recording's description, drift reports, and the shipped
cassettes being free of secrets."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jwt
import pytest
from vcr.request import Request

from kraken_contract import cassettes
from kraken_contract.cassettes import Scrubber, match_graphql, match_identity
from kraken_contract.redaction import Redactor
from kraken_contract.resources import package_data
from kraken_contract.target import build_target

SHIPPED = Path(__file__).resolve().parents[2] / "cassettes"
URL = "http://127.0.0.1:8000/v1/graphql/"
REGISTER = "mutation RegisterPushNotificationBinding($input: RegisterPushNotificationBindingInput!) { r: __typename }"


def post(body: Any, authorization: str | None = "JWT <KRAKEN_JWT>") -> Request:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return Request("POST", URL, json.dumps(body).encode(), headers)


# ---------------------------------------------------------------- matching
def test_layout_and_key_order_do_not_matter() -> None:
    recorded = post({"query": REGISTER, "variables": {"input": {"token": "t", "bundleId": "b"}}})
    spaced = REGISTER.replace("{ r", "{\n    r").replace("(", " ( ")
    live = post({"variables": {"input": {"bundleId": "b", "token": "t"}}, "query": spaced})
    match_graphql(live, recorded)


def test_other_variables_do_not_match() -> None:
    recorded = post({"query": REGISTER, "variables": {"input": {"token": "t", "bundleId": "b"}}})
    live = post({"query": REGISTER, "variables": {"input": {"token": "u", "bundleId": "b"}}})
    with pytest.raises(AssertionError, match="variables differ"):
        match_graphql(live, recorded)


def test_introspection_matches_introspection_whatever_the_query() -> None:
    old = post({"query": "query IntrospectionQuery { __schema { types { name } } }"})
    new = post({"query": "{ __schema { queryType { name } types { name kind } } }"})
    match_graphql(new, old)


def test_whose_token_was_sent_matters() -> None:
    body = {"query": REGISTER, "variables": {}}
    match_identity(post(body, "<KRAKEN_JWT>"), post(body, "JWT <KRAKEN_JWT>"))
    with pytest.raises(AssertionError, match="sent as none, recorded as primary"):
        match_identity(post(body, None), post(body))
    with pytest.raises(AssertionError, match="secondary"):
        match_identity(post(body, "JWT <KRAKEN_SECONDARY_JWT>"), post(body))


def test_non_graphql_bodies_match_byte_for_byte() -> None:
    broken = Request("POST", URL, b'{"query": "mutation {', {})
    match_graphql(broken, Request("POST", URL, b'{"query": "mutation {', {}))
    with pytest.raises(AssertionError):
        match_graphql(broken, Request("POST", URL, b"other", {}))


# ---------------------------------------------------------------- scrubbing
A_JWT = jwt.encode({"sub": "1001", "exp": 4102444800}, "k" * 32, algorithm="HS256")


def response(body: Any, headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": headers or {"content-type": ["application/json"], "content-length": ["1"]},
        "body": {"string": json.dumps(body).encode()},
    }


def test_requests_lose_credentials_and_noise() -> None:
    redactor = Redactor()
    redactor.add(A_JWT, "<KRAKEN_JWT>")
    request = post({"query": "mutation { x }", "variables": {"input": {"APIKey": "secret-key"}}}, f"JWT {A_JWT}")
    request.headers["User-Agent"] = "python-requests"
    scrubbed = Scrubber(redactor).request(request)
    assert scrubbed.headers["Authorization"] == "JWT <KRAKEN_JWT>"
    assert "User-Agent" not in scrubbed.headers
    assert b"secret-key" not in scrubbed.body and b"<APIKey>" in scrubbed.body


def test_token_responses_lose_their_tokens() -> None:
    body = {"data": {"obtainKrakenToken": {"token": A_JWT, "refreshToken": "r-123", "payload": {"sub": "1"}}}}
    scrubbed = Scrubber(Redactor()).response(response(body))
    text = scrubbed["body"]["string"].decode()
    assert A_JWT not in text and "r-123" not in text and '"sub"' not in text
    assert scrubbed["headers"]["content-length"] == [str(len(scrubbed["body"]["string"]))]


def test_scrubbing_is_idempotent() -> None:
    # vcrpy applies the hooks again to loaded interactions and to live requests before matching.
    scrubber = Scrubber(Redactor(), mask_personal_data=True)
    scrubber.remember_person("primary", {"givenName": "John", "familyName": "Doe"})
    body = {"data": {"viewer": {"givenName": "John", "familyName": "Doe", "email": "john@example.com"}}}
    once = scrubber.response(response(body))
    assert scrubber.response(once) == once
    request = scrubber.request(post({"query": "{ viewer { givenName } }"}, f"JWT {A_JWT}"))
    assert scrubber.request(request).body == request.body


def test_personal_data_becomes_role_placeholders() -> None:
    scrubber = Scrubber(Redactor(), mask_personal_data=True)
    scrubber.remember_person("primary", {"givenName": "John", "familyName": "Doe"})
    body = {"data": {"viewer": {"givenName": "John", "familyName": "Doe", "email": "john@example.com"}}}
    viewer = json.loads(scrubber.response(response(body))["body"]["string"])["data"]["viewer"]
    assert viewer == {"givenName": "Primary-givenName", "familyName": "Primary-familyName", "email": "<email>"}


def test_a_response_without_date_gets_the_recording_time() -> None:
    scrubbed = Scrubber(Redactor()).response(response({"data": {}}))
    assert cassettes.RECORDED_AT_HEADER in scrubbed["headers"]


# ---------------------------------------------------------------- the recording's description
def test_other_generation_versions_stop_the_replay_with_one_line(tmp_path: Path) -> None:
    target = build_target({"KRAKEN_URL": URL, "KRAKEN_JWT": "x"}, mode="record")
    path = cassettes.write_recording(tmp_path, target)
    description = json.loads(path.read_text())
    description["versions"]["hypothesis"] = "1.0.0"
    path.write_text(json.dumps(description))
    with pytest.raises(cassettes.RecordingMismatch) as raised:
        cassettes.read_recording(tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("cassettes were recorded with hypothesis 1.0.0, this is hypothesis ")
    assert message.endswith("re-record with `tox -e record`")


def test_missing_recording_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(cassettes.RecordingMismatch, match="record one with `tox -e record`"):
        cassettes.read_recording(tmp_path)


def test_replay_target_has_placeholders_for_every_token(tmp_path: Path) -> None:
    environ = {"KRAKEN_URL": URL, "KRAKEN_API_KEY": "k", "KRAKEN_SECONDARY_JWT": "s", "KRAKEN_BUNDLE_ID": "b.c"}
    cassettes.write_recording(tmp_path, build_target(environ, mode="record"))
    target = cassettes.replay_target(cassettes.read_recording(tmp_path), 10, 120)
    assert target.bundle_id == "b.c" and target.secondary_jwt == "<KRAKEN_SECONDARY_JWT>"
    assert target.expired_jwt is None
    assert target.credentials is not None and target.credentials.secret == "<KRAKEN_JWT>"


def test_variables_diff_names_each_changed_path() -> None:
    diff = cassettes.variables_diff(
        {"input": {"token": "a", "bundleId": "b"}}, {"input": {"token": "c", "bundleId": "b"}}
    )
    assert diff == ['- input.token: "a"', '+ input.token: "c"']


# ---------------------------------------------------------------- the shipped cassettes
def shipped_files() -> list[Path]:
    return sorted(path for path in SHIPPED.rglob("*") if path.is_file())


def test_cassettes_are_shipped() -> None:
    assert (SHIPPED / cassettes.RECORDING_FILE).is_file()
    assert len([path for path in shipped_files() if path.suffix == ".yaml"]) >= 30


def test_no_cassette_holds_a_secret() -> None:
    seed = tomllib.loads(package_data("reference/seed.toml").read_text())
    api_keys = [user["api_key"] for user in seed["users"]]
    secret = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ|sk_(live|test)_[A-Za-z0-9]|" + "|".join(map(re.escape, api_keys)))
    leaks = [str(path) for path in shipped_files() if secret.search(path.read_text(encoding="utf-8"))]
    assert leaks == []


def test_every_recorded_authorization_is_a_placeholder() -> None:
    values = {
        line.strip()
        for path in shipped_files()
        if path.suffix == ".yaml"
        for block in re.findall(r"Authorization:\n((?:\s+- .*\n)+)", path.read_text(encoding="utf-8"))
        for line in block.splitlines()
    }
    assert values, "no Authorization header was recorded at all"
    assert all(re.fullmatch(r"- '?(JWT )?<[A-Za-z_]+>'?", value) for value in values), values
