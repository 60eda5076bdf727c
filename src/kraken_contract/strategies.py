"""Hypothesis strategies for the inputs of registerPushNotificationBinding.

Generated device tokens end with a short salt: fixed when recording or replaying (so both generate the
same requests), random per live run (so concurrent runs against one target never share a token). The
salt is read when a token is generated, so strategies can be built at import time."""

from __future__ import annotations

import string
from collections.abc import Collection
from datetime import timedelta

from hypothesis import strategies as st

STRATEGIES_VERSION = "2"  # bump when a strategy changes what it generates: cassettes must be re-recorded

DOCUMENTED_SERVICES = ("GCM", "APNS", "APNS_SANDBOX")
REPLAY_SALT = "0c0ffee0"
_salt = [REPLAY_SALT]
HEX_LOWER = "0123456789abcdef"
FCM_ALPHABET = string.ascii_letters + string.digits + "_-"


def use_salt(salt: str) -> None:
    if len(salt) != len(REPLAY_SALT) or any(ch not in HEX_LOWER for ch in salt):
        raise ValueError(f"a token salt is {len(REPLAY_SALT)} lower-case hex digits, not {salt!r}")
    _salt[0] = salt


def salted(text: str) -> str:
    return text + _salt[0]


def apns_tokens() -> st.SearchStrategy[str]:
    """APNs device tokens: 64 hexadecimal digits, in lower or upper case."""
    size = 64 - len(REPLAY_SALT)
    body = st.text(HEX_LOWER, min_size=size, max_size=size).map(salted)
    return st.one_of(body, body.map(str.upper))


def fcm_tokens() -> st.SearchStrategy[str]:
    """FCM registration tokens: about 150-180 characters of [A-Za-z0-9_:-], `<instance id>:APA91b<...>`."""
    instance = st.text(FCM_ALPHABET, min_size=11, max_size=22)
    body = st.text(FCM_ALPHABET, min_size=120, max_size=148)
    return st.builds(lambda i, b: salted(f"{i}:APA91b{b}"), instance, body)


def device_tokens() -> st.SearchStrategy[str]:
    return st.one_of(apns_tokens(), fcm_tokens())


def unusual_tokens() -> st.SearchStrategy[str]:
    """Arbitrary text a client might send as a token: any unicode, control characters, very long."""
    visible = st.text(min_size=1, max_size=40).filter(lambda text: text.strip() != "")
    controls = st.builds(
        lambda head, control, tail: head + control + tail,
        st.text(HEX_LOWER, min_size=4, max_size=16),
        st.sampled_from(["\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\u0085"]),
        st.text(HEX_LOWER, min_size=4, max_size=16),
    )
    exotic = st.text(
        st.characters(categories=["Mn", "Me", "Cf", "So", "Lo", "Zs", "Co"], exclude_characters="\ufeff"),
        min_size=2,
        max_size=30,
    ).filter(lambda text: text.strip() != "")
    long = st.builds(
        lambda unit, count: unit * count,
        st.sampled_from(["a", "Ab9", "é", "\u4e2d"]),
        st.integers(2000, 6000),
    )
    return st.one_of(visible, controls, exotic, long)


def blank_tokens() -> st.SearchStrategy[str]:
    """Empty or whitespace-only tokens (ASCII whitespace: what every language's trim agrees on)."""
    return st.text(st.sampled_from([" ", "\t", "\n", "\r"]), min_size=0, max_size=8)


def _label() -> st.SearchStrategy[str]:
    return st.from_regex(r"[a-z][a-z0-9]{0,11}", fullmatch=True)


def reverse_dns_bundle_ids() -> st.SearchStrategy[str]:
    """Well-formed bundle ids: `com.example.app`."""
    return st.lists(_label(), min_size=2, max_size=5).map(".".join)


def malformed_bundle_ids() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", " ", ".", "..", "com..app", ".com.app", "com.app.", "com app"]),
        st.text(min_size=1, max_size=30),
        st.builds(lambda label, count: ".".join([label] * count), _label(), st.integers(200, 400)),
    )


def unknown_bundle_ids(known: Collection[str]) -> st.SearchStrategy[str]:
    """Bundle ids that name no application on the target: generated reverse-DNS ids and malformed ones."""
    known_lower = {bundle.lower() for bundle in known}
    return st.one_of(reverse_dns_bundle_ids(), malformed_bundle_ids()).filter(
        lambda bundle: bundle.strip().lower() not in known_lower
    )


def _case_variants(value: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(value), max_size=len(value)).map(
        lambda flips: "".join(ch.swapcase() if flip else ch for ch, flip in zip(value, flips, strict=True))
    )


def wrong_case_services(valid: Collection[str] = DOCUMENTED_SERVICES) -> st.SearchStrategy[str]:
    """Documented services in another case (`apns`, `Gcm`): never an exact match of a valid service."""
    return st.sampled_from(DOCUMENTED_SERVICES).flatmap(_case_variants).filter(lambda service: service not in valid)


def utc_offsets() -> st.SearchStrategy[timedelta]:
    """Real-world UTC offsets, in quarter hours from -12:00 to +14:00."""
    return st.integers(-48, 56).map(lambda quarters: timedelta(minutes=15 * quarters))


def expiry_delays() -> st.SearchStrategy[timedelta]:
    """How far in the future a requested expiry lies: an hour to 30 days (well inside the documented example's
    three months, so no deployment has reason to refuse it), to the microsecond."""
    return st.builds(
        lambda seconds, micros: timedelta(seconds=seconds, microseconds=micros),
        st.integers(3600, 30 * 86400),
        st.integers(0, 999_999),
    )
