"""Talking to the target: one HTTP session (timeouts, bounded retries, a record of every exchange) under
gql clients, and the documented operations as calls."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from gql import Client, gql
from gql.transport.exceptions import (
    TransportAlreadyConnected,
    TransportError,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.requests import RequestsHTTPTransport
from graphql import (
    DocumentNode,
    GraphQLError,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    parse,
)
from requests.auth import AuthBase

from kraken_contract.auth import ExchangedToken, KrakenAuth, StaticToken, TokenSource
from kraken_contract.redaction import Redactor
from kraken_contract.resources import operation_text
from kraken_contract.target import REPLAY_PLACEHOLDERS, Target

RATE_LIMITED_CODE = "KT-CT-1199"
NOT_FOUND_CODE = "KT-CT-5411"
MAX_RETRIES = 5
BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
EXCERPT = 1200


@dataclass
class Exchange:
    """One HTTP request and its response, as the suite saw them."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_headers: Mapping[str, str]
    text: str
    body: Any
    sent_at: datetime
    received_at: datetime
    redactor: Redactor = field(repr=False)
    attempt: int = 1

    def __repr__(self) -> str:
        return f"<Exchange {self.method} {self.operation_name or '?'} -> HTTP {self.status}>"

    @property
    def query(self) -> str | None:
        return self.request_body.get("query") if isinstance(self.request_body, dict) else None

    @property
    def variables(self) -> Any:
        return self.request_body.get("variables") if isinstance(self.request_body, dict) else None

    @property
    def operation_name(self) -> str | None:
        """`operationName`, or the name of the document's only operation (gql sends no operationName)."""
        if not isinstance(self.request_body, dict):
            return None
        return self.request_body.get("operationName") or operation_name_of(self.query)

    @property
    def content_type(self) -> str:
        return self.response_headers.get("Content-Type", "")

    @property
    def errors(self) -> list[Any]:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return errors if isinstance(errors, list) else []

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    def field(self, name: str) -> Any:
        """`data.<name>`, or None when data or the field is missing."""
        return self.data.get(name) if isinstance(self.data, dict) else None

    @property
    def rate_limited(self) -> bool:
        """Kraken's "Too many requests." (KT-CT-1199), or HTTP 429."""
        return self.status == 429 or RATE_LIMITED_CODE in self.error_codes()

    def error_codes(self) -> list[str]:
        return [
            str(error.get("extensions", {}).get("errorCode"))
            for error in self.errors
            if isinstance(error, dict) and isinstance(error.get("extensions"), dict)
        ]

    def describe(self) -> str:
        """`sent:` and `received:` lines for a failure message, with secrets masked."""
        redactor = self.redactor
        operation = self.operation_name or _one_line(self.query) or "(no GraphQL document)"
        variables = redactor.variables(self.variables) if self.variables is not None else None
        sent = f"sent: {self.method} {self.url} {operation}"
        if variables is not None:
            sent += " variables=" + _excerpt(json.dumps(variables, sort_keys=True, ensure_ascii=False))
        auth = redactor.authorization(self.request_headers.get("Authorization"))
        sent += f" (Authorization: {auth})" if auth else " (no Authorization header)"
        shown = json.dumps(redactor.value(self.body), ensure_ascii=False) if self.body is not None else self.text
        received = f"received: HTTP {self.status} {self.content_type or '(no content type)'} {_excerpt(shown)}"
        return f"{sent}\n{received}"


@lru_cache(maxsize=1024)
def parsed_document(document: str | None) -> DocumentNode | None:
    """A GraphQL document parsed once however often it is sent (None when it is not valid GraphQL)."""
    try:
        return parse(document) if document else None
    except GraphQLError:
        return None


def is_mutation(document: str | None) -> bool:
    """Whether a document holds a mutation (unparsable text counts as one: it is sent to a mutation endpoint)."""
    tree = parsed_document(document)
    if tree is None:
        return bool(document)
    return any(
        isinstance(d, OperationDefinitionNode) and d.operation == OperationType.MUTATION for d in tree.definitions
    )


def operation_name_of(document: str | None) -> str | None:
    tree = parsed_document(document)
    if tree is None:
        return None
    names = [d.name.value for d in tree.definitions if isinstance(d, OperationDefinitionNode) and d.name]
    return names[0] if len(names) == 1 else None


def _one_line(text: str | None) -> str:
    return _excerpt(" ".join(text.split())) if text else ""


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else f"{text[:EXCERPT]}... ({len(text)} characters)"


def _request_body(request: requests.PreparedRequest) -> Any:
    if request.method == "GET":
        params = {key: values[0] for key, values in parse_qs(urlsplit(request.url or "").query).items()}
        if "variables" in params:
            with contextlib.suppress(ValueError):
                params["variables"] = json.loads(params["variables"])
        return params
    raw = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


def inner_errors(error: BaseException) -> list[BaseException]:
    """An exception and every exception it wraps (causes, contexts, and urllib3's wrapped arguments)."""
    found: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        pending += [e for e in (current.__cause__, current.__context__, *current.args) if isinstance(e, BaseException)]
    return found


def is_connection_reset(error: BaseException) -> bool:
    """The server dropped the connection (a retry is safe); not a refusal or a timeout."""
    resets = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.RemoteDisconnected)
    return any(isinstance(inner, resets) for inner in inner_errors(error))


def connection_problem(error: BaseException) -> str:
    """The innermost reason of a failed request, in one line ("[Errno 111] Connection refused")."""
    innermost = inner_errors(error)[-1]
    text = " ".join(str(innermost).split())
    refusal = re.search(r"\[Errno -?\d+\][^\"')]*", text)
    return refusal.group(0).strip() if refusal else text or type(innermost).__name__


@dataclass
class HTTPStats:
    requests: int = 0
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


class KrakenHTTP(requests.Session):
    """The run's one HTTP session: default timeout, bounded exponential backoff on KT-CT-1199 and connection
    resets (Kraken rejects both before executing, so a retry is safe for every operation), and a record
    of every exchange."""

    def __init__(
        self,
        timeout: float,
        redactor: Redactor,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        super().__init__()
        self.timeout = timeout
        self.redactor = redactor
        self.sleep = sleep
        self.max_retries = max_retries
        self.stats = HTTPStats()
        self.last_exchange: Exchange | None = None
        self.listeners: list[Callable[[Exchange], None]] = []
        self.send_wrappers: list[Callable[[Callable[[], requests.Response]], requests.Response]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        attempt = 0
        while True:
            attempt += 1
            sent_at = datetime.now(UTC)
            try:
                response = self._send_once(request, kwargs)
            except requests.ConnectionError as error:
                if not is_connection_reset(error) or attempt > self.max_retries:
                    raise
                self._back_off(attempt, None)
                continue
            exchange = self._record(request, response, sent_at, attempt)
            if attempt <= self.max_retries and exchange.rate_limited:
                self._back_off(attempt, response)
                continue
            return response

    def _send_once(self, request: requests.PreparedRequest, kwargs: dict[str, Any]) -> requests.Response:
        def send() -> requests.Response:
            return super(KrakenHTTP, self).send(request, **kwargs)

        call = send
        for wrapper in self.send_wrappers:
            call = partial(wrapper, call)
        return call()

    def _back_off(self, attempt: int, response: requests.Response | None) -> None:
        self.stats.retries += 1
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            delay = min(BACKOFF_CAP, max(delay, float(retry_after)))
        self.sleep(delay)

    def _record(
        self, request: requests.PreparedRequest, response: requests.Response, sent_at: datetime, attempt: int
    ) -> Exchange:
        received_at = datetime.now(UTC)
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        exchange = Exchange(
            method=request.method or "",
            url=request.url or "",
            request_headers=dict(request.headers),
            request_body=_request_body(request),
            status=response.status_code,
            response_headers=response.headers,
            text=response.text,
            body=body,
            sent_at=sent_at,
            received_at=received_at,
            redactor=self.redactor,
            attempt=attempt,
        )
        self.stats.requests += 1
        self.stats.statuses[response.status_code] += 1
        self.last_exchange = exchange
        for listener in self.listeners:
            listener(exchange)
        return exchange


class KrakenTransport(RequestsHTTPTransport):
    """gql's requests transport on the run's shared session, with request bodies serialised with sorted keys."""

    def __init__(
        self,
        url: str,
        session: KrakenHTTP,
        *,
        auth: AuthBase | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            url=url,
            auth=auth,
            headers=headers,
            timeout=session.timeout,  # type: ignore[arg-type]
            json_serialize=partial(json.dumps, sort_keys=True),
        )
        self._shared_session = session

    def connect(self) -> None:
        if self.session is not None:
            raise TransportAlreadyConnected("Transport is already connected")
        self.session = self._shared_session

    def close(self) -> None:
        self.session = None  # the shared session outlives this client


def make_client(url: str, session: KrakenHTTP, **transport_options: Any) -> Client:
    return Client(transport=KrakenTransport(url, session, **transport_options), fetch_schema_from_transport=False)


# Checks applied to every exchange: (exchange, whether the request was a valid GraphQL request).
ExchangeCheck = Callable[[Exchange, bool], None]


class KrakenAPI:
    """The documented operations, executed through a gql client as one account user (or none)."""

    def __init__(
        self,
        client: Client,
        session: KrakenHTTP,
        *,
        identity: str,
        check: ExchangeCheck,
        write_guard: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.session = session
        self.identity = identity
        self.check = check
        self.write_guard = write_guard

    def execute(self, document: str, variables: dict[str, Any] | None = None, *, valid: bool = True) -> Exchange:
        """Send a GraphQL document; return the exchange whatever the outcome (gql raises on any `errors`)."""
        request = gql(document)
        request.variable_values = variables
        before = self.session.stats.requests
        with contextlib.suppress(TransportQueryError, TransportServerError, TransportProtocolError):
            self.client.execute(request)
        exchange = self.session.last_exchange
        if exchange is None or self.session.stats.requests == before:
            raise RuntimeError("gql did not send the request")
        self.check(exchange, valid)
        return exchange

    def operation(self, name: str, variables: dict[str, Any] | None = None) -> Exchange:
        return self.execute(operation_text(name), variables)

    def register(
        self,
        token: str,
        bundle_id: str,
        *,
        service: str | None = None,
        expires_at: str | None = None,
        external_provider: str | None = None,
    ) -> Exchange:
        self.write_guard()
        registration: dict[str, Any] = {"token": token, "bundleId": bundle_id}
        for key, value in (
            ("service", service),
            ("expiresAt", expires_at),
            ("externalProvider", external_provider),
        ):
            if value is not None:
                registration[key] = value
        return self.operation("RegisterPushNotificationBinding", {"input": registration})

    def delete(self, token: str) -> Exchange:
        self.write_guard()
        return self.operation("DeletePushNotificationBinding", {"input": {"token": token}})

    def viewer(self) -> Exchange:
        return self.operation("Viewer")

    def obtain_token(self, token_input: dict[str, str]) -> Exchange:
        return self.operation("ObtainKrakenToken", {"input": token_input})


def binding_of(exchange: Exchange) -> dict[str, Any] | None:
    payload = exchange.field("registerPushNotificationBinding")
    binding = payload.get("pushNotificationBinding") if isinstance(payload, dict) else None
    return binding if isinstance(binding, dict) else None


def delete_status(exchange: Exchange) -> str | None:
    payload = exchange.field("deletePushNotificationBinding")
    return payload.get("status") if isinstance(payload, dict) else None


def token_exchange(api: KrakenAPI, url: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    """obtainKrakenToken as a function for `ExchangedToken`; raises with the error messages on failure."""

    def exchange(token_input: dict[str, str]) -> dict[str, Any]:
        try:
            result = api.obtain_token(token_input)
        except (requests.RequestException, TransportError) as error:
            raise RuntimeError(f"cannot reach {url}: {connection_problem(error)}") from None
        data = result.field("obtainKrakenToken")
        if result.errors or not isinstance(data, dict):
            messages = "; ".join(
                f"{(e.get('extensions') or {}).get('errorCode', '')} {e.get('message', '')}".strip()
                for e in result.errors
                if isinstance(e, dict)
            )
            raise RuntimeError(messages or f"HTTP {result.status} without data")
        return data

    return exchange


def _unchecked(exchange: Exchange, valid_request: bool) -> None:
    return None


class Connection:
    """One target: its HTTP session, a client per account user, and the bindings registered through them
    (so that nothing a run registers is left behind)."""

    def __init__(
        self,
        target: Target,
        redactor: Redactor,
        *,
        replay: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        check: ExchangeCheck = _unchecked,
        write_guard: Callable[[], None] = lambda: None,
    ) -> None:
        self.target = target
        self.redactor = redactor
        self.replay = replay
        self.http = KrakenHTTP(target.timeout, redactor, sleep=sleep)
        self.check = check
        self.write_guard = write_guard
        self.registered: dict[tuple[str, str], None] = {}
        self.undeleted: list[str] = []
        self._apis: dict[str, KrakenAPI] = {}
        self._sources: dict[str, TokenSource] = {}
        for secret, placeholder in target.secrets().items():
            redactor.add(secret, placeholder)
        self.http.listeners.append(self._track_bindings)

    def _track_bindings(self, exchange: Exchange) -> None:
        """Remember every binding a known account user registers, however it was sent (documented operation,
        raw request, fuzzing), and forget the ones deleted; the rest is deleted at the end."""
        identity = _IDENTITIES.get(self.redactor.authorization(exchange.request_headers.get("Authorization")) or "")
        if identity is None:
            return
        registered = binding_of(exchange)
        if registered is not None:
            for token in {registered.get("token"), _sent_token(exchange)}:
                if isinstance(token, str):
                    self.registered[(identity, token)] = None
        elif delete_status(exchange) == "SUCCESSFUL":
            self.registered.pop((identity, str(_sent_token(exchange))), None)

    def token_source(self, identity: str = "primary") -> TokenSource:
        """primary, secondary or expired: the KRAKEN_* token (a placeholder when replaying)."""
        if identity not in self._sources:
            self._sources[identity] = self._new_token_source(identity)
        return self._sources[identity]

    def _new_token_source(self, identity: str) -> TokenSource:
        if self.replay:
            return StaticToken(REPLAY_PLACEHOLDERS[identity])
        target = self.target
        if identity == "secondary" and target.secondary_jwt:
            return StaticToken(target.secondary_jwt)
        if identity == "expired" and target.expired_jwt:
            return StaticToken(target.expired_jwt)
        credentials = target.credentials
        if identity != "primary" or credentials is None:
            raise RuntimeError(f"no token is configured for the {identity} account user")
        if credentials.kind == "jwt":
            return StaticToken(credentials.secret)
        # Obtaining the token is set-up, not a contract check: its exchanges are judged by the tests.
        exchange_client = self._api("token-exchange", make_client(self.target.url, self.http), check=_unchecked)
        return ExchangedToken(credentials, token_exchange(exchange_client, self.target.url), self.redactor)

    def api(self, identity: str = "primary") -> KrakenAPI:
        """The documented operations as primary, secondary, expired, or anonymous (no Authorization)."""
        if identity not in self._apis:
            if identity == "anonymous":
                client = make_client(self.target.url, self.http)
            else:
                auth = KrakenAuth(self.token_source(identity), self.target.auth_scheme)
                client = make_client(self.target.url, self.http, auth=auth)
            self._apis[identity] = self._api(identity, client)
        return self._apis[identity]

    def setup_api(self, identity: str = "primary") -> KrakenAPI:
        """The operations as `identity`, for set-up (introspection, learning names): no clause checks."""
        auth = KrakenAuth(self.token_source(identity), self.target.auth_scheme)
        return self._api(identity, make_client(self.target.url, self.http, auth=auth), check=_unchecked)

    def api_with_authorization(self, header_value: str) -> KrakenAPI:
        """A client sending this exact Authorization value (forged tokens, other header forms)."""
        return self._api("custom", make_client(self.target.url, self.http, headers={"Authorization": header_value}))

    def _api(self, identity: str, client: Client, check: ExchangeCheck | None = None) -> KrakenAPI:
        return KrakenAPI(
            client,
            self.http,
            identity=identity,
            check=check or self.check,
            write_guard=self.write_guard,
        )

    def delete_registered(self, since: int = 0) -> None:
        """Delete every binding registered after position `since`, as the user who registered it; note the
        ones that cannot be. KT-CT-5411 means that user has no such binding (deleted, or taken over)."""
        for identity, token in list(self.registered)[since:]:
            if (identity, token) not in self.registered:
                continue
            del self.registered[(identity, token)]
            try:
                exchange = self.api(identity).delete(token)
            except Exception as error:  # cleanup goes on whatever one deletion does
                self.undeleted.append(f"{identity} token {_short(token)}: {str(error).splitlines()[0]}")
                continue
            if delete_status(exchange) != "SUCCESSFUL" and NOT_FOUND_CODE not in exchange.error_codes():
                problem = f"status {delete_status(exchange)!r}, errors {exchange.error_codes()}"
                self.undeleted.append(f"{identity} token {_short(token)}: {problem}")


_IDENTITIES = {
    f"{scheme}{placeholder}": identity
    for identity, placeholder in REPLAY_PLACEHOLDERS.items()
    for scheme in ("JWT ", "")
}


def _sent_token(exchange: Exchange) -> Any:
    """The token a registration or deletion sent: in the variables, or written into the document."""
    variables = exchange.variables
    registration = variables.get("input") if isinstance(variables, dict) else None
    if isinstance(registration, dict):
        return registration.get("token")
    return _literal_token(exchange.query)


def _literal_token(document: str | None) -> str | None:
    tree = parsed_document(document)
    for definition in tree.definitions if tree else ():
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for selection in definition.selection_set.selections:
            for argument in getattr(selection, "arguments", None) or ():
                if argument.name.value == "input" and isinstance(argument.value, ObjectValueNode):
                    for field_node in argument.value.fields:
                        if field_node.name.value == "token" and isinstance(field_node.value, StringValueNode):
                            return field_node.value.value
    return None


def _short(token: str) -> str:
    shown = token if len(token) <= 24 else f"{token[:12]}...{token[-8:]}"
    return f"{shown!r} ({len(token)} characters)"
