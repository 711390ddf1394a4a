"""Access rows for the joint feature (the contract is in tests/access_rows/__init__.py)."""

from __future__ import annotations

from tests.matrix import Route  # noqa: F401

WEB_ROUTES: dict[str, Route] = {}
API_TABLE: list[tuple] = []
API_LISTS: list[str] = []


def build(world) -> None:
    pass


def ids(world) -> dict[str, str]:
    return {}


def secrets(world) -> list[str]:
    return []


def state():
    return ()
