"""Date-time parsing, the server clock and the error shape, as the contract documents them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kraken_contract.invariants import error_shape_problems, parse_datetime, precision

CONFORMANT = {
    "2022-02-17T08:35:18.935761-05:00": datetime(2022, 2, 17, 13, 35, 18, 935761, tzinfo=UTC),
    "2022-02-17T13:35:18.935761+00:00": datetime(2022, 2, 17, 13, 35, 18, 935761, tzinfo=UTC),
    "2022-02-17T13:35:18Z": datetime(2022, 2, 17, 13, 35, 18, tzinfo=UTC),
    "2022-02-17T13:35:18.9Z": datetime(2022, 2, 17, 13, 35, 18, 900000, tzinfo=UTC),
    "2022-02-17T19:05:18.123+05:30": datetime(2022, 2, 17, 13, 35, 18, 123000, tzinfo=UTC),
    "2022-02-17T13:35:18.123456789+00:00": datetime(2022, 2, 17, 13, 35, 18, 123456, tzinfo=UTC),
    "2022-02-17T14:35:18+0100": datetime(2022, 2, 17, 13, 35, 18, tzinfo=UTC),
}


@pytest.mark.parametrize(("text", "moment"), CONFORMANT.items())
def test_conformant_datetimes_parse_to_the_instant(text: str, moment: datetime) -> None:
    assert parse_datetime(text) == moment


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2022-02-17T13:35:18.935761", "no UTC offset"),
        ("2022-02-17 13:35:18", "no UTC offset"),
        ("1645104918", "not an ISO 8601"),
        ("17/02/2022 13:35:18 +00:00", "not an ISO 8601"),
        ("2022-02-30T13:35:18+00:00", "not a valid date-time"),
        ("2022-02-17T13:35:18+25:00", "impossible UTC offset"),
    ],
)
def test_nonconformant_datetimes_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_datetime(text)


def test_non_string_is_refused() -> None:
    with pytest.raises(ValueError, match="not a string"):
        parse_datetime(1645104918)


@pytest.mark.parametrize(
    ("text", "resolution"),
    [
        ("2022-02-17T13:35:18Z", timedelta(seconds=1)),
        ("2022-02-17T13:35:18.123Z", timedelta(milliseconds=1)),
        ("2022-02-17T13:35:18.123456+00:00", timedelta(microseconds=1)),
    ],
)
def test_precision_follows_the_written_fraction(text: str, resolution: timedelta) -> None:
    assert precision(text) == resolution


def test_documented_error_has_no_problems() -> None:
    documented = {
        "message": "'Authorization' header not provided.",
        "locations": [{"line": 2, "column": 28}],
        "path": ["viewer"],
        "extensions": {"errorType": "AUTHORIZATION", "errorCode": "KT-CT-1112", "errorDescription": "..."},
    }
    assert error_shape_problems(documented) == []


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        ({"message": "x"}, "no `extensions`"),
        ({"message": "x", "extensions": {"errorType": "VALIDATION"}}, "errorCode"),
        ({"message": "x", "extensions": {"errorType": "VALIDATION", "errorCode": "KT_CT_5429"}}, "errorCode"),
        ({"message": "x", "extensions": {"errorCode": "KT-CT-5429"}}, "errorType"),
        ({"extensions": {"errorCode": "KT-CT-5429", "errorType": "VALIDATION"}}, "no `message`"),
        ("boom", "not an object"),
    ],
)
def test_departures_from_the_error_shape_are_named(error: object, problem: str) -> None:
    assert any(problem in found for found in error_shape_problems(error))
