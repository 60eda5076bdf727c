"""Recording and replaying the contract suite with vcrpy: GraphQL-aware matching, scrubbing of secrets and
personal data, readable cassettes, the recording's own description, and drift reports."""

from __future__ import annotations

import copy
import json
import platform
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from graphql import FieldNode, OperationDefinitionNode, print_ast

from kraken_contract import __version__
from kraken_contract.client import operation_name_of, parsed_document
from kraken_contract.invariants import RECORDED_AT_HEADER
from kraken_contract.redaction import Redactor
from kraken_contract.strategies import STRATEGIES_VERSION
from kraken_contract.target import REPLAY_PLACEHOLDERS, Credentials, Target

if TYPE_CHECKING:  # vcr is imported lazily: pytest-recording must see vcr.matchers unimported
    from vcr import VCR
    from vcr.request import Request

RECORDING_FILE = "recording.json"
SESSION_DIR = "_session"
SERIALIZER = "yaml"  # registered under vcrpy's own name, so cassettes stay `*.yaml`
MATCH_ON = ("method", "path", "graphql", "identity")
RECORD_COMMAND = "tox -e record"
DROPPED_HEADERS = frozenset({"cookie", "set-cookie"})
KEPT_REQUEST_HEADERS = frozenset({"authorization", "content-type"})
PERSONAL_FIELDS = ("givenName", "familyName", "fullName", "preferredName", "email", "mobile", "landline")
_IDENTITIES = {placeholder: identity for identity, placeholder in REPLAY_PLACEHOLDERS.items()}


class RecordingMismatch(Exception):
    """The cassettes cannot be replayed here; the message is one line saying how to fix it."""


# ---------------------------------------------------------------------------- what a request says
@dataclass(frozen=True)
class GraphQLRequest:
    """What matters of a recorded or live request: its operation, document and variables."""

    operation_name: str | None
    document: str | None
    variables: Any
    raw: bytes = b""

    @property
    def is_introspection(self) -> bool:
        return self.document is not None and _is_introspection(self.document)

    @property
    def label(self) -> str:
        if self.is_introspection:
            return "introspection"
        return self.operation_name or (self.document or self.raw.decode("utf-8", "replace"))[:60] or "(empty)"


def _is_introspection(document: str) -> bool:
    tree = parsed_document(document)
    operations = [d for d in tree.definitions if isinstance(d, OperationDefinitionNode)] if tree else []
    fields = [s for op in operations for s in op.selection_set.selections]
    return bool(fields) and all(isinstance(s, FieldNode) and s.name.value in ("__schema", "__type") for s in fields)


@lru_cache(maxsize=1024)
def _normalised(document: str) -> str:
    """The document as graphql-core prints it: whitespace and layout do not matter."""
    tree = parsed_document(document)
    return print_ast(tree) if tree is not None else document


def graphql_request(request: Request) -> GraphQLRequest:
    if request.method == "GET":
        payload: Any = dict(parse_qsl(urlsplit(request.uri).query))
        if "variables" in payload:
            with suppress(ValueError):
                payload["variables"] = json.loads(payload["variables"])
    else:
        raw = request.body or b""
        try:
            payload = json.loads(raw)
        except ValueError:
            return GraphQLRequest(None, None, None, raw if isinstance(raw, bytes) else raw.encode())
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return GraphQLRequest(None, None, payload, json.dumps(payload, sort_keys=True).encode())
    query = payload["query"]
    name = payload.get("operationName") or operation_name_of(query)
    return GraphQLRequest(name, _normalised(query), payload.get("variables") or None)


def identity_of(request: Request) -> str:
    """Whose token a (scrubbed) request carries: primary, secondary, expired, other or none."""
    header = request.headers.get("Authorization")
    if header is None:
        return "none"
    token = header.partition(" ")[2] or header
    return _IDENTITIES.get(token, "other")


def match_graphql(live: Request, recorded: Request) -> None:
    """vcrpy matcher: same operation, same normalised document (introspection matches introspection),
    same variables whatever their key order; non-GraphQL bodies byte for byte."""
    left, right = graphql_request(live), graphql_request(recorded)
    if left.is_introspection and right.is_introspection:
        return
    assert left.operation_name == right.operation_name, f"operation {left.label} != {right.label}"
    assert left.document == right.document, "the GraphQL documents differ"
    assert left.variables == right.variables, "the variables differ"
    assert left.raw == right.raw, "the bodies differ"


def match_identity(live: Request, recorded: Request) -> None:
    """vcrpy matcher: the same account user (or none) sent both."""
    assert identity_of(live) == identity_of(recorded), (
        f"sent as {identity_of(live)}, recorded as {identity_of(recorded)}"
    )


# ---------------------------------------------------------------------------- scrubbing
@dataclass
class Scrubber:
    """Applied by vcrpy to every request and response, recorded, loaded or live; so it is idempotent."""

    redactor: Redactor
    mask_personal_data: bool = False
    people: dict[str, str] = field(default_factory=dict)

    def remember_person(self, role: str, person: dict[str, Any]) -> None:
        for name in ("givenName", "familyName"):
            value = person.get(name)
            if isinstance(value, str) and value:
                self.people[value] = f"{role.capitalize()}-{name}"

    def request(self, request: Request) -> Request:
        request = copy.deepcopy(request)
        for name in list(request.headers):
            if name.lower() not in KEPT_REQUEST_HEADERS:
                del request.headers[name]
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            request.headers["Authorization"] = self.redactor.authorization(authorization)
        if request.body:
            try:
                payload = json.loads(request.body)
            except ValueError:
                return request
            if isinstance(payload, dict) and "variables" in payload:
                payload["variables"] = self.redactor.variables(payload["variables"])
            request.body = json.dumps(self.redactor.value(payload), sort_keys=True).encode("utf-8")
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = {k: v for k, v in response["headers"].items() if k.lower() not in DROPPED_HEADERS}
        if not any(k.lower() in ("date", RECORDED_AT_HEADER.lower()) for k in headers):
            headers[RECORDED_AT_HEADER] = [datetime.now(UTC).isoformat()]
        body = response["body"]["string"]
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = None
        if payload is not None:
            payload = self.redactor.value(self._without_credentials(payload))
            if self.mask_personal_data:
                payload = self._without_people(payload)
            text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        encoded = text.encode("utf-8") if isinstance(text, str) else text
        for name in [k for k in headers if k.lower() == "content-length"]:
            headers[name] = [str(len(encoded))]
        return {**response, "headers": headers, "body": {"string": encoded}}

    @staticmethod
    def _without_credentials(payload: Any) -> Any:
        data = payload.get("data") if isinstance(payload, dict) else None
        token = data.get("obtainKrakenToken") if isinstance(data, dict) else None
        if isinstance(token, dict):
            for name in ("token", "refreshToken", "payload"):
                if token.get(name) is not None:
                    token[name] = f"<{name}>"
        return payload

    def _without_people(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self._without_people(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._without_people(v, key) for v in value]
        if key in PERSONAL_FIELDS and isinstance(value, str) and not value.startswith(("Primary-", "Secondary-", "<")):
            return self.people.get(value, f"<{key}>")
        return value


# ---------------------------------------------------------------------------- readable cassettes
class _LiteralDumper(yaml.SafeDumper):
    pass


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_text)


def _pretty(body: Any) -> Any:
    if not isinstance(body, str) or not body:
        return body
    try:
        return json.dumps(json.loads(body), indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    except ValueError:
        return body


def serialize(cassette: dict[str, Any]) -> str:
    """YAML with JSON bodies pretty-printed (ASCII-escaped, so any unicode stays diff-friendly)."""
    for interaction in cassette.get("interactions", []):
        interaction["request"]["body"] = _pretty(interaction["request"]["body"])
        body = interaction["response"]["body"]
        body["string"] = _pretty(body.get("string"))
    return yaml.dump(cassette, Dumper=_LiteralDumper, allow_unicode=False, sort_keys=False, width=120)


def deserialize(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(text) or {"interactions": []}
    return loaded


PRETTY_YAML = SimpleNamespace(serialize=serialize, deserialize=deserialize)


def configure_vcr(vcr: VCR) -> None:
    vcr.register_serializer(SERIALIZER, PRETTY_YAML)
    vcr.register_matcher("graphql", match_graphql)
    vcr.register_matcher("identity", match_identity)


def vcr_options(scrubber: Scrubber) -> dict[str, Any]:
    # Plain functions: pytest-recording deep-copies this configuration, and the scrubber must stay shared.
    def before_record_request(request: Request) -> Request:
        return scrubber.request(request)

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        return scrubber.response(response)

    return {
        "serializer": SERIALIZER,
        "match_on": MATCH_ON,
        "before_record_request": before_record_request,
        "before_record_response": before_record_response,
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
    }


@contextmanager
def session_cassette(directory: Path, name: str, record_mode: str, scrubber: Scrubber) -> Iterator[Any]:
    """A cassette for requests made by session-scoped fixtures (viewer, introspection), shared by all tests."""
    path = directory / SESSION_DIR / f"{name}.yaml"
    if record_mode == "rewrite":
        path.unlink(missing_ok=True)
        record_mode = "new_episodes"
    from vcr import VCR

    vcr = VCR(record_mode=record_mode)
    configure_vcr(vcr)
    with vcr.use_cassette(str(path), **vcr_options(scrubber)) as cassette:
        yield cassette


# ---------------------------------------------------------------------------- the recording's description
def generation_versions() -> dict[str, str]:
    """What decides the requests the suite generates: replays need the same to send the same."""
    return {
        "hypothesis": version("hypothesis"),
        "graphql-core": version("graphql-core"),
        "strategies": STRATEGIES_VERSION,
        "python": ".".join(platform.python_version_tuple()[:2]),
    }


def write_recording(directory: Path, target: Target) -> Path:
    description = {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "suite": __version__,
        "versions": generation_versions(),
        "target": {
            "origin": target.origin,
            "url": target.url,
            "auth_scheme": target.auth_scheme,
            "bundle_id": target.bundle_id,
            "ambiguous_bundle_id": target.ambiguous_bundle_id,
            "secondary_user": target.secondary_jwt is not None,
            "expired_token": target.expired_jwt is not None,
            "switches": list(target.switches),
        },
    }
    path = directory / RECORDING_FILE
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    return path


def read_recording(directory: Path) -> dict[str, Any]:
    path = directory / RECORDING_FILE
    if not path.is_file():
        raise RecordingMismatch(
            f"no recording in {directory}/ (missing {RECORDING_FILE}): record one with `{RECORD_COMMAND}`, "
            "or run live with --disable-recording"
        )
    try:
        description: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise RecordingMismatch(f"{path} is not valid JSON ({error}): re-record with `{RECORD_COMMAND}`") from None
    recorded = description.get("versions", {})
    here = generation_versions()
    different = [f"{name} {recorded.get(name)}" for name in here if recorded.get(name) != here[name]]
    if different:
        now = ", ".join(f"{name} {here[name]}" for name in here if recorded.get(name) != here[name])
        raise RecordingMismatch(
            f"cassettes were recorded with {', '.join(different)}, this is {now}: re-record with `{RECORD_COMMAND}`"
        )
    return description


def replay_target(description: dict[str, Any], timeout: float, clock_tolerance: float) -> Target:
    """The target as it was recorded, with placeholders for every token."""
    recorded = description["target"]
    return Target(
        url=recorded["url"],
        mode="replay",
        origin=recorded["origin"],
        credentials=Credentials("jwt", REPLAY_PLACEHOLDERS["primary"], "KRAKEN_JWT"),
        auth_scheme=recorded["auth_scheme"],
        bundle_id=recorded["bundle_id"],
        ambiguous_bundle_id=recorded.get("ambiguous_bundle_id"),
        secondary_jwt=REPLAY_PLACEHOLDERS["secondary"] if recorded.get("secondary_user") else None,
        expired_jwt=REPLAY_PLACEHOLDERS["expired"] if recorded.get("expired_token") else None,
        timeout=timeout,
        clock_tolerance=clock_tolerance,
        switches=tuple(recorded.get("switches", ())),
    )


# ---------------------------------------------------------------------------- drift
def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        return {
            k: v for key, item in value.items() for k, v in _flatten(item, f"{prefix}.{key}" if prefix else key).items()
        }
    if isinstance(value, list) and value:
        return {k: v for i, item in enumerate(value) for k, v in _flatten(item, f"{prefix}[{i}]").items()}
    return {prefix or "(variables)": value}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 90 else f"{text[:70]}... ({len(text)} characters)"


def variables_diff(recorded: Any, live: Any) -> list[str]:
    before, after = _flatten(recorded), _flatten(live)
    lines = []
    for path in sorted(set(before) | set(after)):
        if before.get(path, ...) != after.get(path, ...):
            if path in before:
                lines.append(f"- {path}: {_shown(before[path])}")
            if path in after:
                lines.append(f"+ {path}: {_shown(after[path])}")
    return lines


def drift_message(test_id: str, cassette: Any, failed_request: Request, reason: str) -> str:
    """Why a replayed request found no recording, what changed against the closest one, how to re-record."""
    live = graphql_request(failed_request)
    path = getattr(cassette, "_path", "?")
    lines = [
        f"replay drift in {test_id}: no recorded {live.label} request matches ({reason})",
        f"  cassette: {path}",
    ]
    recorded = [(req, graphql_request(req)) for req, _ in getattr(cassette, "data", [])]
    same_operation = [(req, sig) for req, sig in recorded if sig.operation_name == live.operation_name]
    if same_operation:
        closest_request, closest = min(
            same_operation, key=lambda pair: len(variables_diff(pair[1].variables, live.variables))
        )
        diff = variables_diff(closest.variables, live.variables)
        if closest.document != live.document:
            lines.append("  the GraphQL document differs from the recorded one")
        if identity_of(closest_request) != identity_of(failed_request):
            lines.append(f"  sent as {identity_of(failed_request)}, recorded as {identity_of(closest_request)}")
        if diff:
            lines.append("  variables against the closest recorded request (- recorded, + now):")
            lines.extend(f"    {line}" for line in diff[:12])
            if len(diff) > 12:
                lines.append(f"    ... {len(diff) - 12} more")
        elif reason == "already_played":
            lines.append("  the same request was sent more often than when it was recorded")
    else:
        operations = sorted({sig.label for _, sig in recorded}) or ["nothing"]
        lines.append(f"  the cassette holds: {', '.join(operations)}")
    lines.append(
        f"  re-record with: {RECORD_COMMAND}  (or: pytest tests/contract --record-mode=rewrite --kraken-target=local)"
    )
    return "\n".join(lines)
