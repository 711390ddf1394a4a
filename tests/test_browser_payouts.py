"""A partner's statement in a real Chromium: the partner admin opens it, reads why each line exists,
disputes one line with an invoice attached; finance decides it with an adjustment; the adjustment
line and the new total appear on the partner's statement."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.test_browser import browser, log_in, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def ledger_cleanup(site):  # noqa: F811
    """The ledger refuses deletes; the flush after a transactional test empties it inside the ledger's
    maintenance window (SQLite's flush deletes row by row, which the guard would stop)."""
    yield
    from django.db import transaction

    from covey.payouts.ledger import maintenance
    from covey.payouts.models import (
        Dispute,
        DisputeFile,
        LedgerEntry,
        PayoutBatch,
        Statement,
        StatementLine,
    )

    with transaction.atomic(), maintenance("test teardown"):
        for model in (DisputeFile, Dispute, StatementLine, Statement, PayoutBatch, LedgerEntry):
            model.objects.all().delete()


def _log_out(tab) -> None:
    tab.get_by_role("button", name="Log out").click()


def _statement_for_partner_a(w) -> None:
    from covey.crm.models import DealEvent, Opportunity, OpportunityPartner, Stage
    from covey.payouts import statements as S
    from covey.payouts.services import quarter_run
    from covey.programs import services as programs
    from tests.test_payouts_ledger import AFTER_Q3, won

    before = date(2026, 6, 1)
    program = programs.program_create(name="Resale Program", currency="USD", actor=w.vendor_admin, today=before)
    version = program.versions.get()
    programs.version_update(version=version, actor=w.vendor_admin, effective_from=date(2026, 7, 1), payout_delay_days=30,
                            today=before)
    programs.tier_save(version=version, actor=w.vendor_admin, code="gold", name="Gold", rank=1, today=before)
    programs.rule_save(version=version, actor=w.vendor_admin, kind="resale_margin", name="Reseller margin", today=before,
                       params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "30"}}]})
    programs.version_publish(version=version, actor=w.vendor_admin, today=before)
    programs.enrol(partner=w.partner_a, program=program, tier_code="gold", starts_on=date(2026, 7, 1), actor=w.partner_manager)
    first = won(w)
    second = Opportunity.objects.create(name="Deal A expansion", account=w.account_a, owner=w.sales_rep, stage=Stage.CLOSED_WON,
                                        amount_minor=500_000, currency="USD", close_date=date(2026, 8, 2))
    OpportunityPartner.objects.create(opportunity=second, partner=w.partner_a, role="reseller", is_primary=True)
    for opp in (first, second):
        DealEvent.objects.create(opportunity=opp, kind="paid", occurred_on=date(2026, 8, 20), amount_minor=opp.amount_minor)
    quarter_run(program=program, period_key="2026Q3", now=AFTER_Q3)
    S.statements_refresh(program=program, period=S.parse_statement_period(program, "2026Q3"))


def test_partner_disputes_a_line_with_a_file_finance_adjusts_and_the_adjustment_appears(page, site, ledger_cleanup, tmp_path):  # noqa: F811
    from covey.payouts.models import Dispute, LedgerEntry

    w, url = site
    _statement_for_partner_a(w)
    lines = list(LedgerEntry.objects.order_by("amount_minor"))
    assert len(lines) == 2
    invoice = tmp_path / "upsell-invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4\n% the customer's upsell invoice\n")

    # 1. The partner admin opens the statement and reads why each line exists.
    log_in(page, url, w.a_admin)
    page.get_by_role("link", name="Statements").first.click()
    page.get_by_role("link", name="2026Q3").click()
    assert page.get_by_role("heading", name=re.compile("Alpha Integrations · Resale Program · 2026Q3")).is_visible()
    table = page.locator("#statement-lines")
    for entry in lines:
        assert table.get_by_text(entry.explanation).is_visible()
    assert page.locator("#statement-total").inner_text() == "4,500.00 USD"

    # 2. It disputes the smaller line, attaching the invoice.
    table.locator(f"#line-{lines[0].public_id}").get_by_role("link", name=re.compile("^Dispute")).click()
    assert page.get_by_text(lines[0].explanation).is_visible()
    page.get_by_label("What is wrong with this line?").fill("The customer bought 2,000.00 more in the same quarter.")
    page.get_by_label("Supporting files").set_input_files(str(invoice))
    page.get_by_role("button", name="Send dispute").click()
    assert page.get_by_text("Your dispute is sent").is_visible()
    assert page.get_by_text("Disputed", exact=True).first.is_visible()
    dispute = Dispute.objects.get()
    assert dispute.files.get().name == "upsell-invoice.pdf"
    _log_out(page)

    # 3. Finance opens the same statement, reads the dispute and its file, and accepts it with an adjustment.
    log_in(page, url, w.finance)
    page.goto(f"{url}/payouts/statements/")
    page.get_by_role("link", name="2026Q3").click()
    assert page.get_by_role("link", name="upsell-invoice.pdf").is_visible()
    page.get_by_role("link", name="Decide").click()
    assert page.get_by_text("The customer bought 2,000.00 more in the same quarter.").is_visible()
    page.get_by_label("Accept: post an adjustment").check()
    page.get_by_label("Adjustment amount").fill("600.00")
    page.get_by_label("Reason (the partner reads it)").fill("Upsell confirmed with sales; margin added.")
    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_text(re.compile("Dispute decided: adjustment of 600.00 USD added")).is_visible()
    _log_out(page)

    # 4. The partner sees the adjustment line, why it exists, and the new total.
    log_in(page, url, w.a_admin)
    page.goto(f"{url}/payouts/statements/")
    page.get_by_role("link", name="2026Q3").click()
    adjustment = Dispute.objects.get().adjustment
    assert page.locator("#statement-lines").get_by_text(adjustment.explanation).is_visible()
    assert "Upsell confirmed with sales" in adjustment.explanation
    assert page.locator("#statement-total").inner_text() == "5,100.00 USD"
    assert page.get_by_role("button", name="Acknowledge statement").is_visible()


def test_finance_simulates_a_draft_and_the_chart_is_drawn_from_the_local_copy_of_chartjs(page, site, ledger_cleanup):  # noqa: F811
    from covey.programs import services as programs
    from covey.programs.models import Program

    w, url = site
    _statement_for_partner_a(w)
    program = Program.objects.get()
    draft = programs.version_draft(program=program, actor=w.vendor_admin, today=date(2026, 10, 2))
    rule = draft.rules.get()
    programs.rule_save(version=draft, rule=rule, actor=w.vendor_admin, kind=rule.kind, name=rule.name, today=date(2026, 10, 2),
                       params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "20"}}]})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    external: list[str] = []
    page.on("request", lambda request: external.append(request.url) if not request.url.startswith(url) else None)

    log_in(page, url, w.finance)
    page.goto(f"{url}/payouts/simulator/")
    page.get_by_label("Draft version").select_option(draft.public_id)
    page.get_by_label("2026Q3").check()
    page.get_by_role("button", name="Simulate").click()
    assert page.get_by_text("-1,500.00 USD").first.is_visible()  # 20% instead of 30% on 15,000.00
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('simulation-chart'))")
    assert page.locator("#simulation-rows").get_by_text("Alpha Integrations").is_visible()
    assert not errors and not external, (errors, external)
