"""Access rows for the ecosystem map (the contract is in tests/access_rows/__init__.py): the vendor's
picture of its whole partner ecosystem; partner users are not told it exists."""

from __future__ import annotations

from tests.matrix import PARTNER_A, PARTNER_B, VENDOR, Route, expect

WEB_ROUTES: dict[str, Route] = {
    "analytics_ecosystem": Route(expect(ok=VENDOR, hidden=PARTNER_A + PARTNER_B)),
}
#                                                                   admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("ecosystem numbers", "GET", "/api/analytics/ecosystem", None,  (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
]
API_LISTS: list[str] = []


def build(world) -> None:
    return None


def ids(world) -> dict[str, str]:
    return {}


def secrets(world) -> list[str]:
    return []


def state():
    return ()
