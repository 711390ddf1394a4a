"""Payouts over the API: a quarter run, the statement with its lines, a dispute with a file, the
decision, approval, a batch and its payment file, FX rates, the ledger, deal events and the simulator;
with the outsider, floats and bad input refused."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from covey.crm.models import DealEvent
from covey.payouts import statements as S
from covey.payouts.models import Dispute, FxRate, LedgerEntry, PayoutBatch, PayoutRun
from covey.payouts.services import quarter_run
from covey.programs import services as programs
from tests.test_api import as_user, assert_error
from tests.test_payouts_ledger import AFTER_Q3, won

Q3 = S.StatementPeriod("2026Q3", date(2026, 7, 1), date(2026, 9, 30))


@pytest.fixture
def statement(world, gold_program):
    opp = won(world)
    DealEvent.objects.create(opportunity=opp, kind="paid", occurred_on=date(2026, 8, 20), amount_minor=1_000_000)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    S.statements_refresh(program=gold_program, period=Q3)
    return world.partner_a.statements.get()


def _dispute(api, statement, line, comment="The upsell is missing.", files=()):
    data = {"line": line, "comment": comment}
    if files:
        data["files"] = list(files)
    return api.client.post(f"/api/payouts/statements/{statement.public_id}/disputes", data, headers=api._headers())


def test_a_statement_goes_from_draft_through_dispute_to_paid_over_the_api(world, statement):
    partner = as_user(world.a_admin)
    body = partner.get(f"/api/payouts/statements/{statement.public_id}").json()
    assert body["status"] == "draft" and body["total"] == {"amount_minor": 300_000, "currency": "USD", "amount": "3000.00"}
    line = body["lines"][0]
    assert line["explanation"].startswith("30% reseller margin") and line["rate"] == "0.3"
    assert line["base"]["amount"] == "10000.00"

    invoice = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 invoice", content_type="application/pdf")
    opened = _dispute(partner, statement, line["id"], files=[invoice])
    assert opened.status_code == 201, opened.content
    dispute = opened.json()
    assert dispute["status"] == "open" and dispute["files"][0]["name"] == "invoice.pdf"

    finance = as_user(world.finance)
    assert_error(finance.post(f"/api/payouts/statements/{statement.public_id}/approve"), 422, "validation_error")
    assert_error(finance.post(f"/api/payouts/disputes/{dispute['id']}/resolve",
                              {"decision": "accept", "amount": 600.0, "note": "x"}), 422, "validation_error")
    decided = finance.post(f"/api/payouts/disputes/{dispute['id']}/resolve",
                           {"decision": "accept", "amount": "600.00", "note": "Upsell confirmed."})
    assert decided.status_code == 200, decided.content
    assert decided.json()["adjustment"]["amount"]["amount"] == "600.00"
    after = partner.get(f"/api/payouts/statements/{statement.public_id}").json()
    assert after["total"]["amount"] == "3600.00" and len(after["lines"]) == 2
    assert any(entry["source"] == "adjustment" for entry in after["lines"])

    assert partner.post(f"/api/payouts/statements/{statement.public_id}/acknowledge").json()["status"] == "acknowledged"
    assert finance.post(f"/api/payouts/statements/{statement.public_id}/approve").json()["status"] == "approved"
    made = finance.post("/api/payouts/batches", {"currency": "usd"}, headers={"Idempotency-Key": "batch-1"})
    assert made.status_code == 201 and made.json()["total"]["amount"] == "3600.00"
    again = finance.post("/api/payouts/batches", {"currency": "usd"}, headers={"Idempotency-Key": "batch-1"})
    assert again.json()["id"] == made.json()["id"] and PayoutBatch.objects.count() == 1
    batch = made.json()["id"]
    payment = finance.get(f"/api/payouts/batches/{batch}/csv")
    assert payment["Content-Type"].startswith("text/csv") and b"3600.00" in payment.content
    paid = finance.post(f"/api/payouts/batches/{batch}/mark-paid", {"reference": "BANK-9"})
    assert paid.json()["status"] == "paid"
    assert_error(finance.post(f"/api/payouts/batches/{batch}/mark-paid", {"reference": "BANK-9"}), 422, "validation_error")
    assert partner.get(f"/api/payouts/statements/{statement.public_id}").json()["status"] == "paid"


def test_partner_b_never_sees_a_statement_line_dispute_or_entry_of_a(world, statement):
    entry = statement.lines.get().entry
    S.line_dispute(statement=statement, entry=entry, actor=world.a_admin, comment="Too low")
    dispute = Dispute.objects.get()
    outsider = as_user(world.b_admin)
    assert outsider.get("/api/payouts/statements").json() == {"items": [], "count": 0}
    assert outsider.get("/api/payouts/ledger").json() == {"items": [], "count": 0}
    assert outsider.get(f"/api/payouts/statements?partner={world.partner_a.public_id}").json()["count"] == 0
    assert_error(outsider.get(f"/api/payouts/statements/{statement.public_id}"), 404, "not_found")
    assert_error(outsider.get(f"/api/payouts/statements/{statement.public_id}/lines"), 404, "not_found")
    assert_error(outsider.get(f"/api/payouts/disputes/{dispute.public_id}"), 404, "not_found")
    assert_error(_dispute(outsider, statement, entry.public_id), 404, "not_found")
    assert_error(outsider.get("/api/payouts/runs"), 404, "not_found")
    assert as_user(world.a_rep).get("/api/payouts/ledger").json()["count"] == 1


def test_only_partner_admins_dispute_and_only_finance_decides(world, statement):
    entry = statement.lines.get().entry
    assert_error(_dispute(as_user(world.a_rep), statement, entry.public_id), 403, "forbidden")
    assert_error(_dispute(as_user(world.a_admin), statement, "led_nope"), 422, "validation_error", field="line")
    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90 not a pdf", content_type="application/pdf")
    assert_error(_dispute(as_user(world.a_admin), statement, entry.public_id, files=[fake]), 422, "validation_error", field="files")
    assert not Dispute.objects.exists()
    dispute = _dispute(as_user(world.a_admin), statement, entry.public_id).json()
    assert_error(as_user(world.partner_manager).post(f"/api/payouts/disputes/{dispute['id']}/resolve",
                                                     {"decision": "reject", "note": "No"}), 403, "forbidden")
    assert_error(as_user(world.finance).post(f"/api/payouts/disputes/{dispute['id']}/resolve",
                                             {"decision": "accept", "note": "Yes"}), 422, "validation_error", field="amount")
    rejected = as_user(world.finance).post(f"/api/payouts/disputes/{dispute['id']}/resolve",
                                           {"decision": "reject", "note": "Gold rate applies."})
    assert rejected.json()["status"] == "rejected" and rejected.json()["adjustment"] is None


def test_a_run_over_the_api_and_missing_fx_rates_named(world, gold_program):
    opp = won(world)
    finance = as_user(world.finance)
    opp.currency = "EUR"
    opp.save()
    body = assert_error(finance.post("/api/payouts/runs", {"program": gold_program.public_id, "period": "2026Q3"}),
                        422, "validation_error", field="fx")
    assert "EUR" in body["errors"][0]["message"] and not LedgerEntry.objects.exists()
    fx = finance.post("/api/payouts/fx-rates", {"period": "2026Q3", "currency": "EUR", "per_base": "1.1"})
    assert fx.status_code == 201 and fx.json()["per_base"] == "1.1"
    assert_error(finance.post("/api/payouts/fx-rates", {"period": "2026Q3", "currency": "EUR", "per_base": 1.1}), 422, "validation_error")
    assert_error(finance.post("/api/payouts/fx-rates", {"period": "2026Q3", "currency": "EUR", "per_base": "-2"}), 422,
                 "validation_error", field="per_base")
    assert FxRate.objects.count() == 1
    run = finance.post("/api/payouts/runs", {"program": gold_program.public_id, "period": "2026Q3"})
    assert run.status_code == 201 and run.json()["figures"]["new_entries"] == 1
    assert finance.get("/api/payouts/runs").json()["count"] == 1
    assert_error(as_user(world.sales_rep).post("/api/payouts/runs", {"program": gold_program.public_id, "period": "2026Q3"}),
                 403, "forbidden")
    assert_error(finance.post("/api/payouts/runs", {"program": "prg_nope", "period": "2026Q3"}), 422, "validation_error",
                 field="program")
    assert PayoutRun.objects.count() == 1


def test_deal_events_over_the_api(world, gold_program):
    opp = won(world)
    finance = as_user(world.finance)
    made = finance.post(f"/api/opportunities/{opp.public_id}/events",
                        {"kind": "paid", "occurred_on": "2026-09-01", "amount": "10000.00"})
    assert made.status_code == 201 and made.json()["amount"]["amount_minor"] == 1_000_000
    assert_error(finance.post(f"/api/opportunities/{opp.public_id}/events",
                              {"kind": "paid", "occurred_on": "2026-09-01", "amount_minor": 10.5}), 422, "validation_error")
    assert_error(finance.post(f"/api/opportunities/{opp.public_id}/events", {"kind": "party", "occurred_on": "2026-09-01"}),
                 422, "validation_error")
    assert_error(as_user(world.sales_rep).post(f"/api/opportunities/{opp.public_id}/events",
                                               {"kind": "churned", "occurred_on": "2026-09-02"}), 403, "forbidden")
    assert_error(as_user(world.b_admin).post(f"/api/opportunities/{opp.public_id}/events",
                                             {"kind": "churned", "occurred_on": "2026-09-02"}), 404, "not_found")
    assert finance.get(f"/api/opportunities/{opp.public_id}/events").json()["count"] == 1
    assert DealEvent.objects.count() == 1


def test_the_simulator_over_the_api(world, statement):
    program = statement.program
    draft = programs.version_draft(program=program, actor=world.vendor_admin, today=date(2026, 10, 2))
    rule = draft.rules.get()
    programs.rule_save(version=draft, rule=rule, actor=world.vendor_admin, kind=rule.kind, name=rule.name,
                       params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "25", "silver": "20"}}]},
                       today=date(2026, 10, 2))
    simulated = as_user(world.vendor_admin).post("/api/payouts/simulations", {"version": draft.public_id, "periods": ["2026Q3"]})
    assert simulated.status_code == 201, simulated.content
    body = simulated.json()
    assert body["totals"]["USD"]["difference"]["amount"] == "-500.00" and body["losers"] == 1
    assert body["rows"][0]["partner"] == world.partner_a.name
    published = program.versions.get(status="published")
    assert_error(as_user(world.vendor_admin).post("/api/payouts/simulations", {"version": published.public_id, "periods": ["2026Q3"]}),
                 422, "validation_error", field="version")
    assert_error(as_user(world.vendor_admin).post("/api/payouts/simulations", {"version": draft.public_id, "periods": ["2099Q1"]}),
                 422, "validation_error")
    assert_error(as_user(world.a_admin).post("/api/payouts/simulations", {"version": draft.public_id, "periods": ["2026Q3"]}),
                 404, "not_found")
    assert LedgerEntry.objects.count() == 1
