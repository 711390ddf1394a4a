"""Access rows for account mapping (the contract is in tests/access_rows/__init__.py).

Partner A uploaded a list ("Alpha accounts 2026") that overlaps the vendor's CRM accounts; a run
has finished; the vendor shares its "Open opportunities" population with A as overlapping records
(name and country). Partner B uploaded a list of its own. B must never learn A's list, rows,
populations or overlaps exist. Each side defines its own populations and sharing: the vendor's are
for admins and partner managers (sharing with A: an admin or A's manager), A's for A's admin.
"""

from __future__ import annotations

from tests.matrix import CRM_EDITORS, PARTNER_A, PARTNER_B, READ_A, VENDOR, Route, expect, rest

A_LIST_CSV = (
    "Id,Company name,Website,Country,Type,Industry,Employees\n"
    "ALPHA-ROW-1,Northwind Traders Inc,https://www.northwind-traders.example,US,Customer,Retail,1200\n"
    "ALPHA-ROW-2,Globex Corp,globex-corp.example,US,Customer,Energy,5400\n"
    "ALPHA-ROW-3,Initech LLC,initech-software.example,US,Prospect,Software,300\n"
    "ALPHA-ROW-4,Umbrella Health Partners,umbrella-health.example,US,Customer,Health,800\n"
    "ALPHA-ROW-5,Customer A,customer-a.example,US,Customer,Retail,50\n"
)
B_LIST_CSV = (
    "Record ID,Company name,Company Domain Name,Country/Region,Lifecycle Stage\n"
    "BETA-ROW-1,Globex,globex-corp.example,United States,customer\n"
    "BETA-ROW-2,Vandelay Industries,vandelay-imports.example,United States,lead\n"
)
# Vendor CRM accounts (besides the world's Customer A/B): name, domain, status, open deal?
VENDOR_ACCOUNTS = (
    ("Northwind Traders", "northwind-traders.example", "customer", False),
    ("Globex Corporation", "globex-corp.example", "prospect", False),
    ("Initech", "initech-software.example", "prospect", True),
)

A_LIST = {"public_id": "map_list_a.public_id"}
A_CUSTOMERS = {"public_id": "map_pop_a_customers.public_id"}
A_CUSTOM = {"public_id": "map_pop_a_custom.public_id"}
VENDOR_MAPPERS = ("vendor_admin", "partner_manager", "other_manager")
A_UPLOADERS = ("vendor_admin", "partner_manager", "a_admin", "a_rep")
UPLOAD_A = expect(ok=A_UPLOADERS, forbidden=rest(A_UPLOADERS, PARTNER_B), hidden=PARTNER_B)
A_ADMIN_ONLY = expect(ok=("a_admin",), forbidden=rest(("a_admin",), PARTNER_B), hidden=PARTNER_B)
ACT_A = CRM_EDITORS + ("a_admin", "a_rep")
UPLOADERS_ANY = ("vendor_admin", "partner_manager", "other_manager", "a_admin", "a_rep", "b_admin", "b_rep")

WEB_ROUTES: dict[str, Route] = {
    "mapping_home": Route(expect(ok=VENDOR + PARTNER_A + PARTNER_B)),
    "mapping_list_upload": Route(expect(ok=UPLOADERS_ANY, forbidden=rest(UPLOADERS_ANY))),
    # The vendor's list and its rebuild are the vendor's: partners never reach them.
    "mapping_our_list_rebuild": Route(expect(ok=VENDOR_MAPPERS, forbidden=rest(VENDOR_MAPPERS)), method="POST"),
    "mapping_list_detail": Route(READ_A, kwargs=A_LIST),
    "mapping_list_refresh": Route(UPLOAD_A, method="POST", kwargs=A_LIST),
    "mapping_list_columns": Route(UPLOAD_A, method="POST", kwargs=A_LIST),
    "mapping_population_create": Route(A_ADMIN_ONLY, method="POST", kwargs=A_LIST),
    "mapping_run_start": Route(UPLOAD_A, method="POST", kwargs=A_LIST),
    "mapping_run_status": Route(READ_A, kwargs=A_LIST),
    "mapping_matrix": Route(READ_A, kwargs=A_LIST),
    "mapping_overlaps": Route(READ_A, kwargs=A_LIST),
    # The first cell is our customers × A's customers: we share our customers with A as counts only,
    # so A may not export those records (the page says so; the export refuses).
    "mapping_overlaps_export": Route(expect(ok=VENDOR, forbidden=PARTNER_A, hidden=PARTNER_B), kwargs=A_LIST),
    "mapping_targets": Route(READ_A, kwargs=A_LIST),
    "mapping_population_records": Route(READ_A, kwargs={**A_LIST, "population_id": "map_pop_a_customers.public_id"}),
    "mapping_population_delete": Route(A_ADMIN_ONLY, method="POST", kwargs=A_CUSTOM),
    "mapping_sharing_set": Route(A_ADMIN_ONLY, method="POST", kwargs=A_CUSTOMERS),
    "mapping_pair_plan": Route(expect(ok=CRM_EDITORS, forbidden=rest(CRM_EDITORS, PARTNER_B), hidden=PARTNER_B),
                               method="POST", kwargs={"public_id": "map_pair_a.public_id"}),
    "mapping_pair_introduce": Route(expect(ok=ACT_A, forbidden=rest(ACT_A, PARTNER_B), hidden=PARTNER_B),
                                    method="POST", kwargs={"public_id": "map_pair_a.public_id"}),
}

L = "/api/mapping/lists/{map_list_a}"
#                                                                        admin  pm   pm2  rep  fin  exec  a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("read mapping list", "GET", L, None,                                   (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("list populations", "GET", L + "/populations", None,                   (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("add population", "POST", L + "/populations", {"name": "Big retail", "filters": {"industry": "Retail"}},
                                                                            (403, 403, 403, 403, 403, 403, 201, 403, 403, 404, 404)),
    ("remove population", "DELETE", "/api/mapping/populations/{map_pop_a_custom}", None,
                                                                            (403, 403, 403, 403, 403, 403, 204, 403, 403, 404, 404)),
    ("set sharing", "PUT", "/api/mapping/populations/{map_pop_a_customers}/sharing", {"level": "overlaps", "fields": ["country"]},
                                                                            (403, 403, 403, 403, 403, 403, 200, 403, 403, 404, 404)),
    # A run has just been queued by the refresh rows; here the list's run finished, so a new one starts.
    ("start run", "POST", L + "/runs", None,                                (202, 202, 403, 403, 403, 403, 202, 202, 403, 404, 404)),
    ("list runs", "GET", L + "/runs", None,                                 (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("read run", "GET", "/api/mapping/runs/{map_run_a}", None,              (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("read matrix", "GET", L + "/matrix", None,                             (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("read overlaps", "GET", L + "/overlaps?ours={map_pop_ours_open}&theirs={map_pop_a_customers}", None,
                                                                            (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("refresh list", "POST", L + "/upload", {"filename": "alpha-2026-12.csv", "content": A_LIST_CSV},
                                                                            (201, 201, 403, 403, 403, 403, 201, 201, 403, 404, 404)),
    ("plan from overlap", "POST", "/api/mapping/overlaps/{map_pair_a}/account-plan", None,
                                                                            (201, 201, 201, 201, 403, 403, 403, 403, 403, 404, 404)),
    ("introduction from overlap", "POST", "/api/mapping/overlaps/{map_pair_a}/introduction", {"note": "Shall we?"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 404, 404)),
    ("upload list", "POST", "/api/mapping/lists", {"filename": "more.csv", "content": B_LIST_CSV},
                                                                            (422, 422, 422, 403, 403, 403, 201, 201, 403, 201, 201)),
]
API_LISTS: list[str] = ["/api/mapping/lists", "/api/mapping/lists?q=Alpha"]


def build(world) -> None:
    from datetime import date

    from covey.accountmaps import services
    from covey.accountmaps.models import MatchedPair, PopulationKind
    from covey.crm.models import Account, Opportunity

    w = world
    for name, domain, status, open_deal in VENDOR_ACCOUNTS:
        account = Account.objects.create(name=name, domain=domain, website=f"https://{domain}", status=status, country="US")
        if open_deal:
            Opportunity.objects.create(name=f"{name} platform", account=account, owner=w.sales_rep, stage="Qualification",
                                       amount_minor=1_000_000, currency="USD", close_date=date(2026, 12, 1))
    w.map_list_a, _ = services.list_import(partner=w.partner_a, actor=w.a_admin, data=A_LIST_CSV.encode(),
                                           filename="alpha-accounts-2026.csv", name="Alpha accounts 2026")
    w.map_list_b, _ = services.list_import(partner=w.partner_b, actor=w.b_admin, data=B_LIST_CSV.encode(),
                                           filename="beta.csv", name="Beta book")
    ours = services.our_list_get()
    w.map_our_list = ours
    w.map_pop_ours_open = ours.populations.get(kind=PopulationKind.OPEN_OPPORTUNITIES)
    w.map_pop_ours_prospects = ours.populations.get(kind=PopulationKind.PROSPECTS)
    w.map_pop_a_customers = w.map_list_a.populations.get(kind=PopulationKind.CUSTOMERS)
    w.map_pop_a_custom = services.population_create(account_list=w.map_list_a, actor=w.a_admin, name="Alpha retail",
                                                    filters={"industry": "Retail"})
    services.sharing_set(population=w.map_pop_ours_open, partner=w.partner_a, actor=w.vendor_admin, level="overlaps",
                         fields=["country"])
    services.sharing_set(population=w.map_pop_a_customers, partner=w.partner_a, actor=w.a_admin, level="overlaps",
                         fields=["country", "industry"])
    w.map_run_a = w.map_list_a.runs.get()
    # Customer A (our open opportunity) is Alpha's customer: the pair the co-sell actions use.
    w.map_pair_a = MatchedPair.objects.get(run=w.map_run_a, their_row__external_id="ALPHA-ROW-5")


def ids(world) -> dict[str, str]:
    return {
        "map_list_a": world.map_list_a.public_id, "map_pop_a_customers": world.map_pop_a_customers.public_id,
        "map_pop_a_custom": world.map_pop_a_custom.public_id, "map_pop_ours_open": world.map_pop_ours_open.public_id,
        "map_run_a": world.map_run_a.public_id, "map_pair_a": world.map_pair_a.public_id,
    }


def secrets(world) -> list[str]:
    return [
        world.map_list_a.name, world.map_list_a.public_id, world.map_pop_a_customers.public_id,
        world.map_pop_a_custom.public_id, world.map_pop_a_custom.name, world.map_run_a.public_id, world.map_pair_a.public_id,
        "alpha-accounts-2026.csv", "Umbrella Health Partners", "Northwind Traders Inc", "ALPHA-ROW-1", "ALPHA-ROW-4",
    ]


def state():
    from covey.accountmaps.models import (
        AccountList,
        IntroductionRequest,
        ListRow,
        MappingRun,
        Population,
        SharingRule,
    )

    return (
        list(AccountList.objects.values_list("public_id", "name", "version", "row_count").order_by("id")),
        ListRow.objects.count(),
        list(Population.objects.values_list("public_id", "name", "filters").order_by("id")),
        list(SharingRule.objects.values_list("population_id", "partner_id", "level", "fields").order_by("id")),
        list(MappingRun.objects.values_list("public_id", "status").order_by("id")),
        IntroductionRequest.objects.count(),
    )
