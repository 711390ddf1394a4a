"""CRM files in a real Chromium: a sales rep downloads the opportunities as a Salesforce data tree and
their partner links as Salesforce CSV from the list's Export menu, then imports a partner link on
the "Import partners" page and sees it on the deal."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _download(page, menu_item: str) -> str:  # noqa: F811
    page.locator("details.menu summary").click()
    with page.expect_download() as info:
        page.get_by_role("link", name=menu_item, exact=True).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_export_menu_downloads_and_partner_import(page, site, tmp_path):  # noqa: F811
    w, url = site
    log_in(page, url, w.sales_rep)
    page.goto(f"{url}/opportunities/")

    tree = json.loads(_download(page, "Salesforce data tree (JSON)"))
    assert sorted(r["Name"] for r in tree["records"]) == ["Deal A", "Deal B"]
    page.goto(f"{url}/opportunities/")
    links = list(csv.DictReader(_download(page, "Partners, Salesforce CSV").splitlines()))
    assert {(r["OpportunityId"], r["AccountToId"], r["Role"]) for r in links} == {
        (w.opportunity_a.public_id, w.partner_a.public_id, "VAR/Reseller"),
        (w.opportunity_b.public_id, w.partner_b.public_id, "VAR/Reseller")}

    page.goto(f"{url}/opportunities/")
    page.get_by_role("link", name="Import partners").click()
    upload = tmp_path / "partners.csv"
    upload.write_text("OpportunityId,AccountToId,Role,IsPrimary\n"
                      f"{w.opportunity_b.public_id},{w.partner_a.public_id},System Integrator,0\n", encoding="utf-8")
    page.set_input_files("input[type=file]", str(upload))
    page.get_by_role("button", name="Import deal partners").click()
    report = page.locator(".import-report")
    assert "Import finished" in report.inner_text() and "Salesforce CSV" in report.inner_text()
    page.goto(f"{url}/opportunities/{w.opportunity_b.public_id}/")
    assert "Alpha Integrations" in page.locator("main").inner_text()
