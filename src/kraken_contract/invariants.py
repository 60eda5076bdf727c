"""What must hold of responses: date-times, the server clock, the Kraken error shape, and the checks
applied to every exchange of the run."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from kraken_contract.clauses import ClauseViolation
from kraken_contract.client import Exchange

ERROR_CODE = re.compile(r"KT-[A-Z]{2}-[0-9]{4,5}")
JSON_CONTENT_TYPES = ("application/json", "application/graphql-response+json")
# Written into a recorded response that has no Date header, so replays compare with the recording's time.
RECORDED_AT_HEADER = "X-Kraken-Contract-Recorded-At"

_ISO_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?:[.,](?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)"
)


def violated(clause_id: str, problem: str, *exchanges: Exchange) -> ClauseViolation:
    """A violation of a clause, with what was sent and what came back."""
    return ClauseViolation(clause_id, problem, "\n".join(exchange.describe() for exchange in exchanges))


def expect(condition: object, clause_id: str, problem: str, *exchanges: Exchange) -> None:
    if not condition:
        raise violated(clause_id, problem, *exchanges)


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 date-time with an explicit UTC offset (any offset, `Z` included, fraction optional).
    Raises ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    match = _ISO_DATETIME.fullmatch(value)
    if match is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}([.,]\d+)?", value):
            raise ValueError(f"{value!r} has no UTC offset")
        raise ValueError(f"{value!r} is not an ISO 8601 date-time with a UTC offset")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    offset_text = match["offset"]
    if offset_text in ("Z", "z"):
        offset = timedelta(0)
    else:
        digits = offset_text[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if offset >= timedelta(hours=24):
            raise ValueError(f"{value!r} has an impossible UTC offset")
        if offset_text[0] == "-":
            offset = -offset
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid date-time: {error}") from None
    return moment.replace(tzinfo=timezone(offset))


def precision(value: str) -> timedelta:
    """The resolution of an ISO 8601 date-time as written: 1 s without a fraction, 1 ms with 3 digits..."""
    match = _ISO_DATETIME.fullmatch(value)
    digits = len(match["fraction"] or "") if match else 0
    return timedelta(seconds=10 ** -min(digits, 6))


def server_clock(exchange: Exchange) -> tuple[datetime, datetime, str]:
    """The window in which the server answered, and where it was read: the `Date` header (second
    resolution), the recording's time for a replayed response without one, else the local clock."""
    date = exchange.response_headers.get("Date")
    if date:
        try:
            moment = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return moment, moment + timedelta(seconds=1), f"the Date header ({date})"
    recorded = exchange.response_headers.get(RECORDED_AT_HEADER)
    if recorded:
        moment = datetime.fromisoformat(recorded)
        return moment, moment, f"the recording's clock ({recorded})"
    return exchange.sent_at, exchange.received_at, "the local clock (no Date header)"


def error_shape_problems(error: Any) -> list[str]:
    """How one GraphQL error departs from the Kraken error shape (empty when it conforms)."""
    if not isinstance(error, dict):
        return [f"an error is not an object: {error!r}"]
    problems = []
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append("an error has no `message`")
    extensions = error.get("extensions")
    if not isinstance(extensions, dict):
        return [*problems, "an error has no `extensions`"]
    code = extensions.get("errorCode")
    if not isinstance(code, str) or not ERROR_CODE.fullmatch(code):
        problems.append(f"`extensions.errorCode` is {code!r}, not a code like KT-CT-1112")
    if not isinstance(extensions.get("errorType"), str) or not extensions["errorType"]:
        problems.append("`extensions.errorType` is missing")
    return problems


def is_json_response(exchange: Exchange) -> bool:
    media_type = exchange.content_type.split(";")[0].strip().lower()
    return media_type in JSON_CONTENT_TYPES and isinstance(exchange.body, dict)


def check_exchange(exchange: Exchange, valid_request: bool) -> None:
    """The clauses every response of the run must meet: no 5xx, JSON, and the Kraken error shape."""
    expect(exchange.status < 500, "PNB-HTTP-3", f"the server answered HTTP {exchange.status}", exchange)
    expect(
        is_json_response(exchange),
        "PNB-HTTP-1",
        f"the response is not a JSON object with a JSON content type (Content-Type: {exchange.content_type!r})",
        exchange,
    )
    if valid_request:
        problems = [problem for error in exchange.errors for problem in error_shape_problems(error)]
        expect(not problems, "PNB-ERR-1", "; ".join(sorted(set(problems))), exchange)


def has_error_code(exchange: Exchange, codes: Iterable[str]) -> bool:
    wanted = set(codes)
    return any(code in wanted for code in exchange.error_codes())


def error_types(exchange: Exchange) -> list[str]:
    return [
        str((error.get("extensions") or {}).get("errorType"))
        for error in exchange.errors
        if isinstance(error, dict) and isinstance(error.get("extensions"), dict)
    ]
