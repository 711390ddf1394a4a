"""Account mapping end to end in a real Chromium: partner A uploads its account list in the portal,
the vendor's matrix shows the counts; the vendor raises sharing of one population ("Prospects") to
overlapping records with the country; from then on A sees exactly those records — the vendor's
prospects it also has, with name and country — and nothing else, on the pages and through the API."""

from __future__ import annotations

from datetime import date

import pytest

from tests.access_rows.mapping import A_LIST_CSV, VENDOR_ACCOUNTS
from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _vendor_accounts(w) -> None:
    from covey.crm.models import Account, Opportunity

    for name, domain, status, open_deal in VENDOR_ACCOUNTS:
        account = Account.objects.create(name=name, domain=domain, website=f"https://{domain}", status=status, country="US")
        if open_deal:
            Opportunity.objects.create(name=f"{name} platform", account=account, owner=w.sales_rep, stage="Qualification",
                                       amount_minor=1_000_000, currency="USD", close_date=date(2026, 12, 1))


def _visible_vendor_records(page, url: str, list_id: str) -> tuple[set[str], set[frozenset]]:  # noqa: F811
    """Every vendor record partner A can read through the API, over every cell of the matrix."""
    matrix = page.request.get(f"{url}/api/mapping/lists/{list_id}/matrix").json()
    names, shapes = set(), set()
    for cell in matrix["cells"]:
        answer = page.request.get(f"{url}/api/mapping/lists/{list_id}/overlaps?ours={cell['ours']}&theirs={cell['theirs']}")
        if answer.status == 403:
            continue
        assert answer.status == 200
        for item in answer.json()["items"]:
            names.add(item["ours"]["name"])
            shapes.add(frozenset(item["ours"]))
    return names, shapes


def test_partner_uploads_vendor_sees_counts_then_shares_one_population_as_records(page, site):  # noqa: F811
    from covey.accountmaps.models import AccountList

    w, url = site
    _vendor_accounts(w)

    # 1. Partner A's admin uploads its list in the portal and reads the import report.
    log_in(page, url, w.a_admin)
    page.goto(f"{url}/mapping/")
    page.get_by_role("link", name="Upload a list").first.click()
    page.locator("input[type=file]").set_input_files(files=[{"name": "alpha-book.csv", "mimeType": "text/csv", "buffer": A_LIST_CSV.encode()}])
    page.get_by_label("Name", exact=True).fill("Alpha book")
    page.get_by_role("button", name="Upload and map").click()
    page.wait_for_url("**/mapping/lists/alst_*/")
    assert page.get_by_role("heading", name="Import report").is_visible()
    assert page.get_by_text("Imported 5 rows into “Alpha book”").is_visible()
    account_list = AccountList.objects.get(name="Alpha book")
    names, _ = _visible_vendor_records(page, url, account_list.public_id)
    assert names == set()  # counts only, everywhere
    page.get_by_role("button", name="Log out").click()

    # 2. A's partner manager opens the matrix: counts per population pair.
    log_in(page, url, w.partner_manager)
    page.goto(f"{url}/mapping/")
    page.get_by_role("link", name="Overlap matrix").click()
    page.wait_for_url("**/matrix/")
    assert page.get_by_role("link", name="Prospects × Customers: 2").is_visible()
    assert page.get_by_role("link", name="Customers × Customers: 1").is_visible()
    assert page.get_by_role("link", name="Prospects × Prospects: 1").is_visible()

    # 3. The manager shares "Prospects" with A as overlapping records, with the country.
    form = page.get_by_role("form", name="Sharing of Prospects")
    form.get_by_label("Level").select_option("overlaps")
    form.get_by_label("Country").check()
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_text("“Prospects” is shared with Alpha Integrations as overlapping records.").is_visible()
    page.get_by_role("button", name="Log out").click()

    # 4. Partner A now sees those records — and only those.
    log_in(page, url, w.a_rep)
    page.goto(f"{url}/mapping/lists/{account_list.public_id}/matrix/")
    page.get_by_role("link", name="Prospects × Customers: 2").click()
    page.wait_for_url("**/overlaps/**")
    table = page.locator("table.overlaps")
    assert table.get_by_text("Globex Corporation").is_visible() and table.get_by_text("Customer A Ltd").is_visible()
    headers = [h.strip() for h in table.locator("thead th").all_text_contents()]
    assert headers[:2] == ["Acme Cloud: Name", "Country"] and "Website" in headers[2:]  # their own side in full
    page.go_back()
    page.wait_for_url("**/matrix/")
    page.get_by_role("link", name="Customers × Customers: 1").click()
    page.wait_for_url("**/overlaps/**")
    assert page.get_by_text("shares “Customers” as counts only").is_visible()
    assert page.get_by_text("Northwind Traders", exact=True).count() == 0

    names, shapes = _visible_vendor_records(page, url, account_list.public_id)
    assert names == {"Globex Corporation", "Customer A Ltd", "Initech"}  # the vendor's prospects A also has
    assert shapes == {frozenset({"name", "country"})}
