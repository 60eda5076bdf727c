"""The reference deployment's data: users, applications, bindings and refresh tokens in SQLite."""

from __future__ import annotations

import sqlite3
import threading
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED_PATH = Path(__file__).with_name("seed.toml")

_TABLES = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    preferred_name TEXT,
    number TEXT,
    email TEXT NOT NULL,
    mobile TEXT NOT NULL,
    landline TEXT NOT NULL,
    created_at TEXT NOT NULL,
    api_key TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS applications (
    id INTEGER PRIMARY KEY,
    bundle_id TEXT NOT NULL,
    service TEXT NOT NULL,
    external_provider TEXT NOT NULL,
    external_project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bindings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    application_id INTEGER NOT NULL REFERENCES applications (id),
    registered_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    expires_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class User:
    id: int
    role: str
    given_name: str
    family_name: str
    preferred_name: str | None
    number: str | None
    email: str
    mobile: str
    landline: str
    created_at: datetime
    api_key: str


@dataclass(frozen=True)
class Application:
    id: int
    bundle_id: str
    service: str
    external_provider: str
    external_project_id: str
    name: str
    description: str


@dataclass(frozen=True)
class Binding:
    id: int
    token: str
    user_id: int
    application_id: int
    registered_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Seed:
    users: tuple[User, ...]
    applications: tuple[Application, ...]
    bundle_id: str
    ambiguous_bundle_id: str

    def user_with_role(self, role: str) -> User:
        return next(user for user in self.users if user.role == role)


def load_seed(switches: Iterable[str] = (), path: Path = SEED_PATH) -> Seed:
    """The seed file's users and applications; applications marked `only_with_switch` need that switch."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    switches = frozenset(switches)
    users = tuple(
        User(
            id=entry["id"],
            role=entry["role"],
            given_name=entry["given_name"],
            family_name=entry["family_name"],
            preferred_name=entry.get("preferred_name"),
            number=entry.get("number"),
            email=entry["email"],
            mobile=entry["mobile"],
            landline=entry["landline"],
            created_at=_as_utc(entry["created_at"]),
            api_key=entry["api_key"],
        )
        for entry in raw["users"]
    )
    applications = tuple(
        Application(
            id=entry["id"],
            bundle_id=entry["bundle_id"],
            service=entry["service"],
            external_provider=entry["external_provider"],
            external_project_id=entry["external_project_id"],
            name=entry["name"],
            description=entry["description"],
        )
        for entry in raw["applications"]
        if entry.get("only_with_switch", "") in switches | {""}
    )
    environment = raw["environment"]
    return Seed(users, applications, environment["bundle_id"], environment["ambiguous_bundle_id"])


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _to_text(value: datetime) -> str:
    return _as_utc(value).isoformat(timespec="microseconds")


def _from_text(text: str) -> datetime:
    return _as_utc(datetime.fromisoformat(text))


class Store:
    """One SQLite connection shared by the server's threads, serialised by a lock."""

    def __init__(self, db_path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(db_path or ":memory:", check_same_thread=False, isolation_level=None)
        self._connection.row_factory = sqlite3.Row
        with self._lock:
            self._connection.executescript(_TABLES)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def _query(self, sql: str, *parameters: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def _change(self, sql: str, *parameters: Any) -> int:
        with self._lock:
            return self._connection.execute(sql, parameters).rowcount

    def seed(self, seed: Seed) -> None:
        """Make users and applications exactly the seed's; bindings of applications no longer seeded go."""
        with self._lock:
            self._connection.execute("BEGIN")
            try:
                self._replace_seed_rows(seed)
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def _replace_seed_rows(self, seed: Seed) -> None:
        application_ids = [application.id for application in seed.applications]
        marks = ",".join("?" * len(application_ids))
        connection = self._connection
        connection.execute(f"DELETE FROM bindings WHERE application_id NOT IN ({marks})", application_ids)
        connection.execute(f"DELETE FROM applications WHERE id NOT IN ({marks})", application_ids)
        connection.executemany(
            "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    user.id,
                    user.role,
                    user.given_name,
                    user.family_name,
                    user.preferred_name,
                    user.number,
                    user.email,
                    user.mobile,
                    user.landline,
                    _to_text(user.created_at),
                    user.api_key,
                )
                for user in seed.users
            ],
        )
        connection.executemany(
            "INSERT OR REPLACE INTO applications VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    application.id,
                    application.bundle_id,
                    application.service,
                    application.external_provider,
                    application.external_project_id,
                    application.name,
                    application.description,
                )
                for application in seed.applications
            ],
        )

    # ---------------------------------------------------------------- users
    def user(self, user_id: int) -> User | None:
        rows = self._query("SELECT * FROM users WHERE id = ?", user_id)
        return _user(rows[0]) if rows else None

    def user_by_api_key(self, api_key: str) -> User | None:
        rows = self._query("SELECT * FROM users WHERE api_key = ?", api_key)
        return _user(rows[0]) if rows else None

    def users(self) -> list[User]:
        return [_user(row) for row in self._query("SELECT * FROM users ORDER BY id")]

    # ---------------------------------------------------------------- applications
    def application(self, application_id: int) -> Application | None:
        rows = self._query("SELECT * FROM applications WHERE id = ?", application_id)
        return _application(rows[0]) if rows else None

    def applications(self) -> list[Application]:
        return [_application(row) for row in self._query("SELECT * FROM applications ORDER BY id")]

    # ---------------------------------------------------------------- bindings
    def binding_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM bindings")[0][0])

    def binding(self, token: str) -> Binding | None:
        rows = self._query("SELECT * FROM bindings WHERE token = ?", token)
        return _binding(rows[0]) if rows else None

    def bindings_of_application(self, application_id: int, user_id: int) -> list[Binding]:
        rows = self._query(
            "SELECT * FROM bindings WHERE application_id = ? AND user_id = ? ORDER BY id",
            application_id,
            user_id,
        )
        return [_binding(row) for row in rows]

    def upsert_binding(
        self, token: str, user_id: int, application_id: int, registered_at: datetime, expires_at: datetime
    ) -> Binding:
        """Insert a binding, or update the one with the same token in place (same id)."""
        self._change(
            "INSERT INTO bindings (token, user_id, application_id, registered_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id,"
            " application_id = excluded.application_id, registered_at = excluded.registered_at,"
            " expires_at = excluded.expires_at",
            token,
            user_id,
            application_id,
            _to_text(registered_at),
            _to_text(expires_at),
        )
        return self._existing_binding(token)

    def insert_binding(
        self, token: str, user_id: int, application_id: int, registered_at: datetime, expires_at: datetime
    ) -> Binding:
        """Insert a binding; sqlite3.IntegrityError when the token already has one."""
        self._change(
            "INSERT INTO bindings (token, user_id, application_id, registered_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            token,
            user_id,
            application_id,
            _to_text(registered_at),
            _to_text(expires_at),
        )
        return self._existing_binding(token)

    def _existing_binding(self, token: str) -> Binding:
        binding = self.binding(token)
        if binding is None:
            raise LookupError("the binding just written is missing")
        return binding

    def delete_binding(self, token: str, user_id: int | None) -> bool:
        """Delete the binding with this token, owned by user_id (None: whoever owns it)."""
        if user_id is None:
            return self._change("DELETE FROM bindings WHERE token = ?", token) > 0
        return self._change("DELETE FROM bindings WHERE token = ? AND user_id = ?", token, user_id) > 0

    # ---------------------------------------------------------------- refresh tokens
    def save_refresh_token(self, token: str, user_id: int, expires_at: datetime) -> None:
        self._change("INSERT OR REPLACE INTO refresh_tokens VALUES (?, ?, ?)", token, user_id, _to_text(expires_at))

    def refresh_token(self, token: str) -> tuple[int, datetime] | None:
        """The user id and expiry of a refresh token, if it was ever issued."""
        rows = self._query("SELECT user_id, expires_at FROM refresh_tokens WHERE token = ?", token)
        return (rows[0]["user_id"], _from_text(rows[0]["expires_at"])) if rows else None


def _user(row: sqlite3.Row) -> User:
    values = dict(row)
    values["created_at"] = _from_text(values["created_at"])
    return User(**values)


def _application(row: sqlite3.Row) -> Application:
    return Application(**dict(row))


def _binding(row: sqlite3.Row) -> Binding:
    values = dict(row)
    values["registered_at"] = _from_text(values["registered_at"])
    values["expires_at"] = _from_text(values["expires_at"])
    return Binding(**values)
