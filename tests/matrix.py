"""Shared vocabulary of the access tables: the cast, its groups, and how a row is written.

``test_access_matrix.py`` (web routes) and ``test_api_access.py`` (API operations) hold the core's
rows; each feature keeps its own rows in ``tests/access_rows/<feature>.py`` (collected by ``features()``) so
features grow the tables without touching each other's lines.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

OK = "ok"  # any 2xx, or a 3xx that is not a bounce to the log-in page
LOGIN = "login"  # a redirect to the log-in page

CAST = (
    "anonymous", "vendor_admin", "partner_manager", "other_manager", "sales_rep", "finance", "executive",
    "a_admin", "a_rep", "a_readonly", "b_admin", "b_rep",
)
VENDOR = ("vendor_admin", "partner_manager", "other_manager", "sales_rep", "finance", "executive")
CRM_EDITORS = ("vendor_admin", "partner_manager", "other_manager", "sales_rep")
PARTNER_A = ("a_admin", "a_rep", "a_readonly")
PARTNER_B = ("b_admin", "b_rep")
SIGNED_IN = VENDOR + PARTNER_A + PARTNER_B


def expect(ok=(), forbidden=(), hidden=(), anonymous=LOGIN) -> dict[str, object]:
    """Every member of the cast must be named exactly once (checked by the test)."""
    table: dict[str, object] = {"anonymous": anonymous}
    for group, outcome in ((ok, OK), (forbidden, 403), (hidden, 404)):
        for who in group:
            assert who not in table, f"{who} listed twice"
            table[who] = outcome
    return table


def rest(*named) -> tuple[str, ...]:
    """Signed-in cast members not in any of the given groups."""
    taken = {w for group in named for w in group}
    return tuple(w for w in SIGNED_IN if w not in taken)


READ_A = expect(ok=VENDOR + PARTNER_A, hidden=PARTNER_B)
CRM_WRITE_A = expect(ok=CRM_EDITORS, forbidden=rest(CRM_EDITORS, PARTNER_B), hidden=PARTNER_B)
CRM_CREATE = expect(ok=CRM_EDITORS, forbidden=rest(CRM_EDITORS))
EVERYONE = expect(ok=SIGNED_IN)
PARTNER_A_EDITORS = ("vendor_admin", "partner_manager", "a_admin")
PARTNER_WRITE_A = expect(ok=PARTNER_A_EDITORS, forbidden=rest(PARTNER_A_EDITORS, PARTNER_B), hidden=PARTNER_B)
ACTIVITY_A_EDITORS = CRM_EDITORS + ("a_admin", "a_rep")  # a_rep logged activity A
ACTIVITY_WRITE_A = expect(ok=ACTIVITY_A_EDITORS, forbidden=rest(ACTIVITY_A_EDITORS, PARTNER_B), hidden=PARTNER_B)
ACTIVITY_LOGGERS = CRM_EDITORS + ("a_admin", "a_rep", "b_admin", "b_rep")
ADMIN_ONLY = expect(ok=("vendor_admin",), forbidden=rest(("vendor_admin",)))
PUBLIC = {who: OK for who in CAST}


@dataclass
class Route:
    expected: dict[str, object]
    method: str = "GET"
    kwargs: dict[str, str] = field(default_factory=dict)  # URL kwarg -> attribute path in the world, or "=literal"
    query: str = ""




def features():
    """The feature modules in tests/access_rows, each with WEB_ROUTES, API_TABLE, API_LISTS and
    build(world) / ids(world) / secrets(world) / state() (see tests/access_rows/__init__.py)."""
    import tests.access_rows as package

    return [importlib.import_module(f"tests.access_rows.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
