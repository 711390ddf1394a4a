"""The co-sell interchange page in a real Chromium: a sales rep imports an AWS GetOpportunity file and
reads the report of values outside the model's enums, imports a lead invitation and accepts it
(downloading the Accept request), then opens the opportunity it became and exports it as an ACE
request that botocore's model accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).parent / "fixtures" / "interchange"


def _download_json(page, click) -> dict:  # noqa: F811
    with page.expect_download() as info:
        click()
    return json.loads(Path(info.value.path()).read_text())


def test_import_report_accept_a_lead_and_export_its_opportunity(page, site):  # noqa: F811
    from covey.interchange import ace

    w, url = site
    log_in(page, url, w.sales_rep)
    page.goto(f"{url}/interchange/")

    # 1. A GetOpportunity response with a value the model does not know: imported, and reported.
    page.set_input_files("input[type=file]", str(FIXTURES / "ace_get_opportunity_unknown_need.json"))
    page.get_by_role("button", name="Import").click()
    report = page.locator(".import-report")
    assert "Import finished" in report.inner_text() and "Created 1" in report.inner_text()
    unknown = report.locator("table").inner_text()
    assert "PrimaryNeedsFromAws" in unknown and "Do Not Need Support from AWS Sales Rep" in unknown

    # 2. A lead invitation: listed as a pending lead; accepting downloads the request to send to AWS.
    page.set_input_files("input[type=file]", str(FIXTURES / "ace_get_engagement_invitation_lead.json"))
    page.get_by_role("button", name="Import").click()
    row = page.locator("tr", has_text="engi-0000002lead01")
    assert "Lead" in row.inner_text() and "Acme Corp" in row.inner_text() and "Pending" in row.inner_text()
    answer = _download_json(page, lambda: row.get_by_role("button", name="Accept").click())
    assert answer == {"operation": "AcceptEngagementInvitation",
                      "request": {"Catalog": "AWS", "Identifier": "engi-0000002lead01"}}
    page.goto(f"{url}/interchange/")
    row = page.locator("tr", has_text="engi-0000002lead01")
    assert "Accepted" in row.inner_text()

    # 3. The opportunity the lead became, exported from its page as a valid CreateOpportunity.
    row.get_by_role("link", name="Acme Corp lead").click()
    page.wait_for_url("**/opportunities/opp_*/")
    assert "Acme Corp lead" in page.locator("h1").inner_text()
    exported = _download_json(page, lambda: page.get_by_role("link", name="Export to AWS ACE").click())
    assert exported["operation"] == "CreateOpportunity"
    body = exported["request"]
    assert body["Customer"]["Account"]["CompanyName"] == "Acme Corp"
    assert body["Marketing"] == {"CampaignName": "SQFONL7I", "Source": "Marketing Activity"}
    assert body["OpportunityTeam"][0]["Email"] == w.sales_rep.email  # the rep who accepted owns it
    ace.validate(exported["operation"], body)
