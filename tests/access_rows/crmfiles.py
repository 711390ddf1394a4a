"""Access rows for CRM files (the contract is in tests/access_rows/__init__.py): exports of what the
caller can see, for everyone; the deals' partner links for vendor staff only (partners: 404, as a
partner does not learn who else is on a deal); imports for the CRM's editors (others: 403, as for
creating an account). The import bodies name partner A's deal and partner B, from the core's ids."""

from __future__ import annotations

from tests.matrix import CRM_CREATE, PARTNER_A, PARTNER_B, VENDOR, Route, expect

WEB_ROUTES: dict[str, Route] = {
    "opportunity_partner_export": Route(expect(ok=VENDOR, hidden=PARTNER_A + PARTNER_B)),
    "opportunity_partner_import": Route(CRM_CREATE),
}

EVERYONE = (200,) * 11
VENDOR_ONLY = (200,) * 6 + (404,) * 5
EDITORS = (200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403)
ACCOUNTS = {"content": "external_id,name\nACC-IMPORTED,Imported Co\n"}
OPPORTUNITIES = {"content": "external_id,name,account_external_id,stage,close_date\n"
                            "OPP-IMPORTED,Imported deal,{account_a},Prospecting,2027-03-31\n"}
LINKS = {"content": "opportunity_external_id,partner_id,role,is_primary\n{opportunity_a},{partner_b},influencer,false\n"}
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("export accounts", "GET", "/api/exports/accounts", None,                EVERYONE),
    ("export opportunities", "GET", "/api/exports/opportunities?fmt=sf-tree", None, EVERYONE),
    ("export opportunity partners", "GET", "/api/exports/opportunity-partners", None, VENDOR_ONLY),
    ("import accounts", "POST", "/api/imports/accounts", ACCOUNTS,           EDITORS),
    ("import opportunities", "POST", "/api/imports/opportunities", OPPORTUNITIES, EDITORS),
    ("import opportunity partners", "POST", "/api/imports/opportunity-partners", LINKS, EDITORS),
]
API_LISTS: list[str] = [
    "/api/exports/accounts", "/api/exports/opportunities", "/api/exports/accounts?fmt=salesforce",
    "/api/exports/opportunities?fmt=sf-tree", "/api/exports/opportunities?fmt=hubspot",
]


def build(world) -> None:
    """Nothing of its own: the files hold the core's accounts, deals and partner links."""


def ids(world) -> dict[str, str]:
    return {}


def secrets(world) -> list[str]:
    return []


def state():
    return None  # the core's state covers accounts, opportunities and partner links
