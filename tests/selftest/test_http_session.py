"""The run's HTTP session: bounded retries on KT-CT-1199 and connection resets only, every exchange recorded."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from urllib3.exceptions import ProtocolError

from kraken_contract.client import KrakenHTTP, connection_problem, is_connection_reset
from kraken_contract.redaction import Redactor

URL = "http://kraken.invalid/v1/graphql/"
RATE_LIMITED = {"errors": [{"message": "Too many requests.", "extensions": {"errorCode": "KT-CT-1199"}}]}


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next scripted outcome: an exception to raise or a JSON body."""

    def __init__(self, *outcomes: Any) -> None:
        super().__init__()
        self.outcomes = list(outcomes)
        self.sent = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(outcome).encode()
        response.request = request
        return response

    def close(self) -> None:
        pass


def session_with(*outcomes: Any) -> tuple[KrakenHTTP, ScriptedAdapter, list[float]]:
    sleeps: list[float] = []
    http = KrakenHTTP(5, Redactor(), sleep=sleeps.append)
    adapter = ScriptedAdapter(*outcomes)
    http.mount("http://", adapter)
    return http, adapter, sleeps


RESET = requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer")))
REFUSED = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))


def test_rate_limited_requests_are_retried_with_growing_backoff() -> None:
    http, adapter, sleeps = session_with(RATE_LIMITED, RATE_LIMITED, {"data": {"viewer": None}})
    response = http.post(URL, json={"query": "{ viewer { givenName } }"})
    assert response.json() == {"data": {"viewer": None}}
    assert adapter.sent == 3 and http.stats.retries == 2 and http.stats.requests == 3
    assert sleeps == [0.25, 0.5]


def test_connection_resets_are_retried() -> None:
    http, adapter, _ = session_with(RESET, {"data": {}})
    http.post(URL, json={"query": "{ __typename }"})
    assert adapter.sent == 2 and http.stats.retries == 1


def test_refused_connections_are_not_retried() -> None:
    http, adapter, _ = session_with(REFUSED)
    with pytest.raises(requests.ConnectionError):
        http.post(URL, json={"query": "{ __typename }"})
    assert adapter.sent == 1


def test_retries_are_bounded() -> None:
    http, adapter, _ = session_with(*[RATE_LIMITED] * 10)
    response = http.post(URL, json={"query": "{ __typename }"})
    assert adapter.sent == 6 and "KT-CT-1199" in response.text


def test_reset_and_refusal_are_told_apart() -> None:
    assert is_connection_reset(RESET) and not is_connection_reset(REFUSED)
    assert connection_problem(REFUSED) == "[Errno 111] Connection refused"
