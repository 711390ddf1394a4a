"""Statements, disputes, payout batches and the simulator, told as the stories finance lives through."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from covey.crm.models import DealEvent
from covey.payouts import statements as S
from covey.payouts.models import DisputeStatus, LedgerEntry, PayoutRun, StatementStatus
from covey.payouts.services import quarter_run, simulate
from covey.programs import services as programs
from tests.test_payouts_ledger import AFTER_Q3, won

Q3 = S.StatementPeriod("2026Q3", date(2026, 7, 1), date(2026, 9, 30))
Q4 = S.StatementPeriod("2026Q4", date(2026, 10, 1), date(2026, 12, 31))


@pytest.fixture
def posted(world, gold_program):
    opp = won(world)
    DealEvent.objects.create(opportunity=opp, kind="paid", occurred_on=date(2026, 8, 20), amount_minor=1_000_000)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    return gold_program


def test_gold_reseller_story_entry_statement_approval_and_batch_file(world, posted):
    figures = S.statements_refresh(program=posted, period=Q3, actor=world.finance)
    assert figures == {"statements_created": 1, "lines_added": 1, "period": "2026Q3"}
    statement = world.partner_a.statements.get()
    assert (statement.total_minor, statement.currency, statement.status) == (300_000, "USD", StatementStatus.DRAFT)
    assert statement.total_minor == sum(line.entry.amount_minor for line in statement.lines.all())

    S.statement_acknowledge(statement=statement, actor=world.a_admin)
    S.statement_approve(statement=statement, actor=world.finance)
    batch = S.batch_create(currency="USD", actor=world.finance)
    rows = list(csv.DictReader(io.StringIO(S.batch_csv(batch))))
    assert rows == [{"payee": world.partner_a.name, "payee_id": world.partner_a.public_id,
                     "statement": statement.public_id, "program": "Resale Program", "period": "2026Q3",
                     "currency": "USD", "amount": "3000.00", "reference": f"Covey {statement.public_id}"}]
    S.batch_mark_paid(batch=batch, actor=world.finance, reference="BANK-2026-10-15")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PAID and statement.paid_at is not None


def test_refreshing_twice_adds_nothing_and_unpaid_entries_wait(world, gold_program):
    won(world)  # no payment yet: the entry is held
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    assert S.statements_refresh(program=gold_program, period=Q3)["lines_added"] == 0
    DealEvent.objects.create(opportunity=world.opportunity_a, kind="paid", occurred_on=date(2026, 10, 5),
                             amount_minor=1_000_000)
    assert quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3).figures["new_entries"] == 0
    assert S.statements_refresh(program=gold_program, period=Q3)["lines_added"] == 0  # payable 4 November
    assert S.statements_refresh(program=gold_program, period=Q4)["lines_added"] == 1
    assert S.statements_refresh(program=gold_program, period=Q4)["lines_added"] == 0


def test_a_disputed_line_resolved_by_finance_adds_an_explained_adjustment(world, posted):
    S.statements_refresh(program=posted, period=Q3)
    statement = world.partner_a.statements.get()
    line = statement.lines.get().entry
    invoice = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 the invoice", content_type="application/pdf")
    dispute = S.line_dispute(statement=statement, entry=line, actor=world.a_admin,
                             comment="The deal was 12,000 after the upsell.", files=[invoice])
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED and dispute.files.get().name == "invoice.pdf"
    with pytest.raises(ValidationError):
        S.statement_approve(statement=statement, actor=world.finance)

    S.dispute_resolve(dispute=dispute, actor=world.finance, amount_minor=60_000, note="Upsell confirmed by sales.")
    dispute.refresh_from_db()
    statement.refresh_from_db()
    assert dispute.status == DisputeStatus.RESOLVED
    assert dispute.adjustment.explanation.startswith(f"Adjustment after dispute {dispute.public_id}")
    assert dispute.adjustment.explanation.endswith("Upsell confirmed by sales. = 600.00 USD")
    assert statement.total_minor == 360_000 and statement.status == StatementStatus.DRAFT
    assert statement.lines.count() == 2


def test_bad_dispute_files_and_empty_comments_change_nothing(world, posted):
    S.statements_refresh(program=posted, period=Q3)
    statement = world.partner_a.statements.get()
    line = statement.lines.get().entry
    fake = SimpleUploadedFile("invoice.pdf", b"MZ not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError):
        S.line_dispute(statement=statement, entry=line, actor=world.a_admin, comment="Wrong", files=[fake])
    with pytest.raises(ValidationError):
        S.line_dispute(statement=statement, entry=line, actor=world.a_admin, comment="   ")
    exe = SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationError):
        S.line_dispute(statement=statement, entry=line, actor=world.a_admin, comment="See file", files=[exe])
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DRAFT and not statement.disputes.exists()


def test_a_negative_statement_is_carried_forward_not_paid(world, posted):
    S.statements_refresh(program=posted, period=Q3)
    statement = world.partner_a.statements.get()
    entry = LedgerEntry(program=posted, partner=world.partner_a, period_key="2026Q3", source="adjustment",
                        key="test:clawback", amount_minor=-500_000, currency="USD", explanation="Refund clawback",
                        payable_on=date(2026, 9, 1))
    entry.save()
    S.statements_refresh(program=posted, period=Q3)
    statement.refresh_from_db()
    assert statement.total_minor == -200_000
    S.statement_approve(statement=statement, actor=world.finance)
    statement.refresh_from_db()
    assert statement.total_minor == 0
    with pytest.raises(ValidationError):
        S.batch_create(currency="USD", actor=world.finance)
    carried = LedgerEntry.objects.get(key=f"carry:{statement.public_id}:in")
    assert carried.amount_minor == -200_000 and carried.payable_on == date.today() + timedelta(days=1)
    assert S.held_entries(statement).filter(pk=carried.pk).exists()  # waits for the next statement


def test_the_simulator_shows_what_a_richer_draft_would_have_paid_last_quarter(world, posted):
    version = posted.versions.get()
    draft = programs.version_draft(program=posted, actor=world.vendor_admin, today=date(2026, 10, 2))
    rule = draft.rules.get()
    programs.rule_save(version=draft, rule=rule, actor=world.vendor_admin, kind=rule.kind, name=rule.name,
                       params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "35", "silver": "20"}}]},
                       today=date(2026, 10, 2))
    run = simulate(draft=draft, period_keys=["2026Q3"], actor=world.vendor_admin, now=AFTER_Q3)
    assert run.figures["totals"] == {"USD": {"posted": 300_000, "simulated": 350_000, "difference": 50_000}}
    assert run.figures["rows"] == [{"partner_id": world.partner_a.id, "partner": world.partner_a.name, "currency": "USD",
                                    "posted": 300_000, "simulated": 350_000, "difference": 50_000}]
    assert run.figures["gainers"] == 1 and run.figures["losers"] == 0
    assert LedgerEntry.objects.count() == 1  # nothing posted
    assert version.rules.get().params["bands"][0]["rates"]["gold"] == "30"
    with pytest.raises(ValidationError):
        simulate(draft=draft, period_keys=["2026Q4"], now=AFTER_Q3)
    assert PayoutRun.objects.filter(kind="simulate").count() == 1
