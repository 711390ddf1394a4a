"""The payout pages, told as finance and the partner use them: run a quarter, read a statement line by
line, dispute a line with a file, decide it, approve, batch, pay; FX rates, earnings, the simulator,
and deal events on the opportunity page."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from covey.core.models import AuditEvent
from covey.crm.models import DealEvent
from covey.payouts import statements as S
from covey.payouts.models import (
    Dispute,
    DisputeStatus,
    FxRate,
    LedgerEntry,
    PayoutBatch,
    PayoutRun,
    StatementStatus,
)
from covey.payouts.services import quarter_run
from covey.programs import services as programs
from tests.test_payouts_ledger import AFTER_Q3, won

Q3 = S.StatementPeriod("2026Q3", date(2026, 7, 1), date(2026, 9, 30))


@pytest.fixture
def statement(world, gold_program):
    opp = won(world)
    DealEvent.objects.create(opportunity=opp, kind="paid", occurred_on=date(2026, 8, 20), amount_minor=1_000_000)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    S.statements_refresh(program=gold_program, period=Q3)
    return world.partner_a.statements.get()


def text(response) -> str:
    return response.content.decode()


# --- runs and FX -----------------------------------------------------------------------------------


def test_finance_reviews_then_confirms_a_quarter_run_and_sees_its_counts(world, gold_program, login):
    won(world)
    client = login(world.finance)
    url = reverse("payout_run_start")
    review = client.get(url, {"program": gold_program.public_id, "period": "2026q3"})
    assert review.status_code == 200 and "Compute Resale Program for 2026Q3" in text(review)
    assert not PayoutRun.objects.exists()  # the review posts nothing

    response = client.post(url, {"program": gold_program.public_id, "period": "2026Q3"}, follow=True)
    run = PayoutRun.objects.get()
    assert response.redirect_chain[-1][0] == reverse("payout_run_detail", args=[run.public_id])
    assert "1 new entries" in text(response)
    listing = client.get(reverse("payout_run_list"))
    assert run.public_id in text(listing)


def test_a_run_missing_an_fx_rate_lists_the_currency_and_posts_nothing(world, gold_program, login):
    opp = won(world)
    opp.currency = "EUR"
    opp.save()
    response = login(world.finance).post(reverse("payout_run_start"),
                                         {"program": gold_program.public_id, "period": "2026Q3"})
    assert response.status_code == 200
    body = text(response)
    assert "exchange rates are missing" in body and "<strong>EUR</strong>" in body
    assert not LedgerEntry.objects.exists()


def test_a_quarter_not_over_yet_is_refused_with_the_reason(world, gold_program, login):
    response = login(world.finance).post(reverse("payout_run_start"),
                                         {"program": gold_program.public_id, "period": "2099Q1"})
    assert response.status_code == 200 and "has not ended yet" in text(response)
    assert not PayoutRun.objects.exists()


def test_the_run_page_opens_with_last_quarter_proposed_and_no_errors(world, gold_program, login):
    from covey.payouts.services import closed_quarters

    body = text(login(world.finance).get(reverse("payout_run_start")))
    assert f'value="{closed_quarters(count=1)[0]}"' in body and 'role="alert"' not in body


def test_partner_users_are_not_told_runs_exist_and_other_staff_cannot_start_one(world, gold_program, login):
    assert login(world.a_admin).get(reverse("payout_run_list")).status_code == 404
    assert login(world.sales_rep).post(reverse("payout_run_start"),
                                       {"program": gold_program.public_id, "period": "2026Q3"}).status_code == 403
    assert not PayoutRun.objects.exists()


def test_finance_adds_an_fx_rate_and_bad_rates_are_refused_by_field(world, login):
    client = login(world.finance)
    url = reverse("fx_rate_list")
    assert client.post(url, {"period": "2026Q3", "currency": "eur", "per_base": "1.0842"}).status_code == 302
    fx = FxRate.objects.get()
    assert (fx.period_key, fx.currency, str(fx.per_base.normalize()), fx.base_currency) == ("2026Q3", "EUR", "1.0842", "USD")
    for bad, message in ((("2026Q3", "EUR", "-1"), "positive number"), (("2026Q3", "USD", "1"), "base currency"),
                         (("Q3", "EUR", "1"), "fiscal quarter"), (("2026Q3", "XXQ", "1"), "ISO 4217"),
                         (("2026Q3", "EUR", "1e5"), "positive number")):
        response = client.post(url, dict(zip(("period", "currency", "per_base"), bad, strict=True)))
        assert response.status_code == 200 and message in text(response), bad
    assert FxRate.objects.count() == 1 and str(FxRate.objects.get().per_base.normalize()) == "1.0842"
    assert AuditEvent.objects.filter(object_type="payouts.fxrate").count() == 1


# --- statements --------------------------------------------------------------------------------------


def test_the_partner_reads_every_line_with_its_explanation_and_total(world, statement, login):
    response = login(world.a_rep).get(reverse("statement_detail", args=[statement.public_id]))
    body = text(response)
    entry = statement.lines.get().entry
    assert entry.explanation in body and "3,000.00 USD" in body
    assert "Acknowledge statement" not in body  # reps read; partner admins act


def test_statement_list_filters_and_partner_b_sees_none_of_a(world, statement, login):
    vendor = login(world.finance).get(reverse("statement_list"), {"status": "draft", "period": "2026Q3"})
    assert statement.public_id in text(vendor)
    assert statement.public_id not in text(login(world.finance).get(reverse("statement_list"), {"status": "paid"}))
    outsider = login(world.b_admin)
    assert statement.public_id not in text(outsider.get(reverse("statement_list")))
    assert outsider.get(reverse("statement_detail", args=[statement.public_id])).status_code == 404
    assert outsider.get(reverse("statement_csv", args=[statement.public_id])).status_code == 404
    assert world.partner_a.name not in text(outsider.get(reverse("earnings")))


def test_partner_admin_acknowledges_and_finance_approves(world, statement, login):
    login(world.a_admin).post(reverse("statement_acknowledge", args=[statement.public_id]))
    statement.refresh_from_db()
    assert statement.status == StatementStatus.ACKNOWLEDGED and statement.acknowledged_by == world.a_admin
    assert login(world.a_admin).post(reverse("statement_approve", args=[statement.public_id])).status_code == 403
    login(world.finance).post(reverse("statement_approve", args=[statement.public_id]))
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED


def test_a_disputed_line_with_a_file_is_decided_and_the_adjustment_line_appears(world, statement, login):
    entry = statement.lines.get().entry
    partner = login(world.a_admin)
    url = reverse("line_dispute", args=[statement.public_id, entry.public_id])
    assert entry.explanation in text(partner.get(url))
    invoice = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 the invoice", content_type="application/pdf")
    response = partner.post(url, {"comment": "The upsell of 2,000 is missing.", "files": [invoice]})
    assert response.status_code == 302
    dispute = Dispute.objects.get()
    assert dispute.files.get().name == "invoice.pdf"
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    download = partner.get(reverse("dispute_file", args=[dispute.public_id, dispute.files.get().pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert login(world.b_admin).get(reverse("dispute_file", args=[dispute.public_id, dispute.files.get().pk])).status_code == 404

    finance = login(world.finance)
    resolve = reverse("dispute_resolve", args=[dispute.public_id])
    assert "The upsell of 2,000 is missing." in text(finance.get(resolve))
    bad = finance.post(resolve, {"decision": "accept", "amount": "12.345", "note": "x"})
    assert bad.status_code == 200 and "decimal" in text(bad).lower()
    assert finance.post(resolve, {"decision": "accept", "amount": "600.00", "note": "Upsell confirmed."}).status_code == 302
    dispute.refresh_from_db()
    statement.refresh_from_db()
    assert dispute.status == DisputeStatus.RESOLVED and statement.total_minor == 360_000
    page = text(login(world.a_admin).get(reverse("statement_detail", args=[statement.public_id])))
    assert dispute.adjustment.explanation in page and "3,600.00 USD" in page


def test_a_dispute_needs_a_comment_and_a_safe_file(world, statement, login):
    entry = statement.lines.get().entry
    url = reverse("line_dispute", args=[statement.public_id, entry.public_id])
    partner = login(world.a_admin)
    assert "Say what is wrong" in text(partner.post(url, {"comment": "   "}))
    fake = SimpleUploadedFile("invoice.pdf", b"MZ not a pdf", content_type="application/pdf")
    assert "attach a PDF" in text(partner.post(url, {"comment": "Wrong", "files": [fake]}))
    assert not Dispute.objects.exists()
    assert login(world.a_rep).post(url, {"comment": "Wrong"}).status_code == 403
    assert login(world.b_admin).post(url, {"comment": "Wrong"}).status_code == 404


def test_a_rejected_dispute_shows_the_reason_and_changes_no_amount(world, statement, login):
    entry = statement.lines.get().entry
    dispute = S.line_dispute(statement=statement, entry=entry, actor=world.a_admin, comment="Too low")
    login(world.finance).post(reverse("dispute_resolve", args=[dispute.public_id]),
                              {"decision": "reject", "note": "The rate is the Gold rate."})
    dispute.refresh_from_db()
    statement.refresh_from_db()
    assert dispute.status == DisputeStatus.REJECTED and statement.total_minor == 300_000
    assert "The rate is the Gold rate." in text(login(world.a_admin).get(reverse("statement_detail", args=[statement.public_id])))


def test_statement_csv_and_pdf(world, statement, login):
    client = login(world.a_admin)
    response = client.get(reverse("statement_csv", args=[statement.public_id]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["line", "period", "source", "explanation"]
    assert rows[1][7] == "3000.00" and rows[-1][0] == "total" and rows[-1][7] == "3000.00"
    pdf = client.get(reverse("statement_pdf", args=[statement.public_id]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"


def test_finance_refreshes_statements_from_the_list(world, gold_program, login):
    won(world)
    DealEvent.objects.create(opportunity=world.opportunity_a, kind="paid", occurred_on=date(2026, 8, 20), amount_minor=1_000_000)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    response = login(world.finance).post(reverse("statements_refresh"), {"program": gold_program.public_id, "period": "2026Q3"},
                                         follow=True)
    assert "1 new statements, 1 lines added" in text(response)
    assert login(world.a_admin).post(reverse("statements_refresh"), {"program": gold_program.public_id,
                                                                     "period": "2026Q3"}).status_code == 404


# --- batches -----------------------------------------------------------------------------------------


def test_finance_batches_approved_statements_downloads_the_file_and_marks_paid(world, statement, login):
    S.statement_approve(statement=statement, actor=world.finance)
    client = login(world.finance)
    assert "1" in text(client.get(reverse("batch_list")))
    client.post(reverse("batch_create"), {"currency": "USD"})
    batch = PayoutBatch.objects.get()
    payment = client.get(reverse("batch_csv", args=[batch.public_id]))
    rows = list(csv.DictReader(io.StringIO(payment.content.decode())))
    assert rows[0]["amount"] == "3000.00" and rows[0]["statement"] == statement.public_id
    confirm = client.get(reverse("batch_mark_paid", args=[batch.public_id]))
    assert "cannot be undone" in text(confirm)
    client.post(reverse("batch_mark_paid", args=[batch.public_id]), {"reference": "BANK-77"})
    batch.refresh_from_db()
    statement.refresh_from_db()
    assert batch.status == "paid" and batch.reference == "BANK-77" and statement.status == StatementStatus.PAID
    assert AuditEvent.objects.filter(object_type="payouts.payoutbatch", action="transition").exists()
    again = client.post(reverse("batch_mark_paid", args=[batch.public_id]), {"reference": "X"})
    assert again.status_code == 200 and "This batch was marked paid on" in text(again)
    batch.refresh_from_db()
    assert batch.reference == "BANK-77"


def test_a_batch_in_a_currency_with_nothing_approved_is_refused(world, statement, login):
    response = login(world.finance).post(reverse("batch_create"), {"currency": "USD"}, follow=True)
    assert "no approved statements" in text(response).lower()
    assert not PayoutBatch.objects.exists()
    assert login(world.executive).get(reverse("batch_list")).status_code == 200
    assert login(world.executive).post(reverse("batch_create"), {"currency": "USD"}).status_code == 403


# --- earnings ------------------------------------------------------------------------------------------


def test_a_partner_sees_its_own_ledger_entries_filtered_by_quarter(world, statement, login):
    entry = statement.lines.get().entry
    client = login(world.a_readonly)
    assert entry.explanation in text(client.get(reverse("earnings"), {"period": "2026Q3"}))
    assert "No ledger entries match" in text(client.get(reverse("earnings"), {"q": "nothing like this"}))
    assert entry.explanation not in text(login(world.b_rep).get(reverse("earnings")))


# --- simulator --------------------------------------------------------------------------------------------


def test_the_simulator_shows_cost_difference_gainers_and_a_chart(world, statement, login):
    program = statement.program
    draft = programs.version_draft(program=program, actor=world.vendor_admin, today=date(2026, 10, 2))
    rule = draft.rules.get()
    programs.rule_save(version=draft, rule=rule, actor=world.vendor_admin, kind=rule.kind, name=rule.name,
                       params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "35", "silver": "20"}}]},
                       today=date(2026, 10, 2))
    client = login(world.vendor_admin)
    assert draft.public_id in text(client.get(reverse("simulator")))
    response = client.post(reverse("simulator"), {"version": draft.public_id, "periods": ["2026Q3"]}, follow=True)
    body = text(response)
    assert "500.00 USD" in body and "simulation-chart" in body and "chart-4.6.1.umd.min.js" in body
    assert "+500.00 USD" in body  # Alpha gains
    assert LedgerEntry.objects.count() == 1
    assert "This field is required" in text(client.post(reverse("simulator"), {"version": draft.public_id}))
    assert login(world.a_admin).get(reverse("simulator")).status_code == 404
    assert login(world.partner_manager).get(reverse("simulator")).status_code == 403


# --- deal events ------------------------------------------------------------------------------------------


def test_finance_records_a_payment_on_a_won_deal_from_the_opportunity_page(world, gold_program, login):
    opp = won(world)
    client = login(world.finance)
    page = text(client.get(reverse("opportunity_detail", args=[opp.public_id])))
    assert "Record an event" in page
    client.post(reverse("deal_event_add", args=[opp.public_id]),
                {"kind": "paid", "occurred_on": "2026-09-01", "amount": "10,000.00", "note": "Invoice 1001"})
    event = DealEvent.objects.get()
    assert (event.kind, event.amount_minor, event.created_by) == ("paid", 1_000_000, world.finance)
    refused = client.post(reverse("deal_event_add", args=[opp.public_id]),
                          {"kind": "paid", "occurred_on": "2099-01-01", "amount": "1"}, follow=True)
    assert "has not come yet" in text(refused)
    assert "Payments and refunds need the amount" in text(client.post(
        reverse("deal_event_add", args=[opp.public_id]), {"kind": "refunded", "occurred_on": "2026-09-02"}, follow=True))
    assert DealEvent.objects.count() == 1
    assert login(world.sales_rep).post(reverse("deal_event_add", args=[opp.public_id]),
                                       {"kind": "churned", "occurred_on": "2026-09-02"}).status_code == 403
    assert login(world.b_admin).post(reverse("deal_event_add", args=[opp.public_id]),
                                     {"kind": "churned", "occurred_on": "2026-09-02"}).status_code == 404


def test_events_need_a_won_deal(world, login):
    response = login(world.finance).post(reverse("deal_event_add", args=[world.opportunity_a.public_id]),
                                         {"kind": "adoption", "occurred_on": "2026-09-02"}, follow=True)
    assert "won deal only" in text(response) and not DealEvent.objects.exists()
