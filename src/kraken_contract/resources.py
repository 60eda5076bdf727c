"""Where the suite's data files live, in a checkout and in an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def schemas_dir() -> Path:
    """The `schemas/` folder: packaged into the wheel, or at the top of a checkout (editable installs)."""
    for candidate in (_PACKAGE_DIR / "_schemas", _PACKAGE_DIR.parents[1] / "schemas"):
        if (candidate / "kraken-push-binding.graphql").is_file():
            return candidate
    raise FileNotFoundError("schemas/kraken-push-binding.graphql is missing from this installation")


def pinned_schema_path() -> Path:
    return schemas_dir() / "kraken-push-binding.graphql"


def operations_dir() -> Path:
    return schemas_dir() / "operations"


def operation_text(name: str) -> str:
    """The text of a documented operation, e.g. `RegisterPushNotificationBinding`."""
    return (operations_dir() / f"{name}.graphql").read_text(encoding="utf-8")


def package_data(name: str) -> Path:
    return _PACKAGE_DIR / name
