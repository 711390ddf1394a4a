"""Market development funds end to end in a real Chromium: a partner rep requests funds for a
webinar, its manager approves part of it, the rep claims with an invoice file, finance approves, the
reimbursement is on the partner's statement and the budget's balance dropped by exactly that amount.

The partner then opens that statement in the portal and reads the reimbursement line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.mdf_world import PDF, build_mdf
from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def mdf_site(site):  # noqa: F811
    """The live site; afterwards the ledger rows it posted are removed inside the ledger's maintenance
    window (the flush between transactional tests could not delete them otherwise)."""
    yield site
    from covey.mdf.models import Claim
    from covey.payouts.ledger import maintenance
    from covey.payouts.models import LedgerEntry, StatementLine

    StatementLine.objects.all().delete()
    Claim.objects.update(ledger_entry=None)
    with maintenance("test teardown"):
        LedgerEntry.objects.all()._raw_delete(LedgerEntry.objects.db)


def _log_out(tab) -> None:
    tab.get_by_role("button", name="Log out").click()


def test_request_partial_approval_claim_with_invoice_reimbursed_on_the_statement(page, mdf_site):  # noqa: F811
    from covey.mdf.models import Budget, FundRequest, RequestStatus
    from covey.payouts.models import LedgerEntry, Source, StatementLine

    w, url = mdf_site
    build_mdf(w)
    before = Budget.objects.get(pk=w.mdf_budget.pk).available_minor
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()

    # 1. The partner rep asks for the vendor's share of a 10,000.00 webinar, putting in 30 % itself.
    log_in(page, url, w.a_rep)
    page.get_by_role("link", name="Market funds").click()
    page.get_by_role("link", name="Request funds").first.click()
    page.locator("#id_activity_type").select_option("webinar")
    page.get_by_label("Title").fill("Cloud migration webinar")
    page.get_by_label("Starts").fill(yesterday)
    page.get_by_label("Ends").fill(yesterday)
    page.get_by_label("Planned cost").fill("10,000.00")
    page.get_by_label("Your co-investment (%)").fill("30")
    page.get_by_label("Expected leads").fill("40")
    page.get_by_label("Campaign code").fill("web-cloud-1")
    page.get_by_role("button", name="Send request").click()
    assert page.get_by_test_id("request-status").inner_text() == "Awaiting decision"
    assert "7,000.00 USD" in page.locator("main").inner_text()
    request_url = page.url
    _log_out(page)

    # 2. The partner's manager approves 5,000.00 of the 7,000.00, with a reason.
    log_in(page, url, w.partner_manager)
    page.goto(request_url)
    page.locator("#id_decision").select_option("approve")
    page.locator("#id_approved_amount").fill("5,000.00")
    page.get_by_label("Reason").fill("Half the audience is outside our segments")
    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_test_id("request-status").inner_text() == "Approved"
    assert page.get_by_test_id("approved-amount").inner_text() == "5,000.00 USD"
    _log_out(page)

    # 3. The rep claims: the webinar cost 6,000.00; the invoice is attached.
    log_in(page, url, w.a_rep)
    page.goto(request_url)
    page.get_by_label("Actual cost").fill("6,000.00")
    page.locator("#id_invoices").set_input_files(files=[{"name": "webinar-invoice.pdf", "mimeType": "application/pdf",
                                                          "buffer": PDF}])
    page.locator("#id_leads_count").fill("24")
    page.get_by_role("button", name="Send claim").click()
    assert page.get_by_test_id("request-status").inner_text() == "Claim submitted"
    assert page.get_by_test_id("reimbursement").inner_text() == "4,200.00 USD"  # 70 % of 6,000.00 < 5,000.00
    assert page.get_by_role("link", name="webinar-invoice.pdf").is_visible()
    _log_out(page)

    # 4. Finance approves the claim.
    log_in(page, url, w.finance)
    page.goto(request_url)
    page.get_by_role("button", name="Record finance decision").click()
    assert page.get_by_test_id("request-status").inner_text() == "Reimbursed"
    assert "on Alpha Integrations's statement" in page.locator("main").inner_text()
    _log_out(page)

    # 5. The budget page shows the balance down by exactly the reimbursement.
    log_in(page, url, w.vendor_admin)
    page.goto(f"{url}/mdf/budgets/{w.mdf_budget.public_id}/")
    from covey.core.money import Money

    assert page.get_by_test_id("budget-available").inner_text() == Money(before - 420_000, "USD").plain()

    request = FundRequest.objects.get(campaign_code="WEB-CLOUD-1")
    assert request.status == RequestStatus.REIMBURSED
    entry = LedgerEntry.objects.get(source=Source.MDF, partner=w.partner_a)
    assert entry.amount_minor == 420_000
    line = StatementLine.objects.select_related("statement").get(entry=entry)
    assert line.statement.partner_id == w.partner_a.pk and line.statement.program_id == w.mdf_program.pk
    assert line.statement.total_minor == 420_000
    assert Budget.objects.get(pk=w.mdf_budget.pk).available_minor == before - 420_000

    # 6. The partner reads the reimbursement on its statement in the portal.
    _log_out(page)
    log_in(page, url, w.a_rep)
    page.goto(f"{url}/payouts/statements/{line.statement.public_id}/")
    statement = page.locator("main").inner_text()
    assert entry.explanation in statement
    assert Money(420_000, "USD").plain().split(" ")[0] in statement
