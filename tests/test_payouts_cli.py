"""``covey payouts …`` from a shell: run a quarter, refresh and list statements, batch and pay, simulate;
with errors that say what is wrong and change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from covey.cli import app
from covey.crm.models import DealEvent
from covey.payouts import statements as S
from covey.payouts.models import LedgerEntry, PayoutBatch, PayoutRun, StatementStatus
from covey.programs import services as programs
from tests.test_payouts_ledger import won


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture
def paid_deal(world, gold_program):
    opp = won(world)
    DealEvent.objects.create(opportunity=opp, kind="paid", occurred_on=date(2026, 8, 20), amount_minor=1_000_000)
    return gold_program


def test_run_then_refresh_and_list_statements(world, paid_deal):
    result = run("payouts", "run", "--program", "resale program", "--period", "2026Q3", "--as", world.finance.email)
    assert result.exit_code == 0, result.output
    assert "New entries" in result.output and "3,000.00 USD" in result.output
    assert PayoutRun.objects.get().actor == world.finance
    again = run("payouts", "run", "--program", "Resale Program", "--period", "2026Q3")
    assert again.exit_code == 0 and LedgerEntry.objects.count() == 1  # idempotent

    empty = run("payouts", "statements", "--period", "2026Q3")
    assert empty.exit_code == 0 and "No statements for 2026Q3" in empty.output
    listed = run("payouts", "statements", "--period", "2026q3", "--refresh")
    assert listed.exit_code == 0, listed.output
    assert "1 new statements, 1 lines added" in listed.output
    assert world.partner_a.name in listed.output and "3,000.00 USD" in listed.output


def test_run_errors_name_the_problem_and_post_nothing(world, paid_deal):
    unknown = run("payouts", "run", "--program", "Nope", "--period", "2026Q3")
    assert unknown.exit_code == 2 and "Resale Program" in unknown.output
    future = run("payouts", "run", "--program", "Resale Program", "--period", "2099Q1")
    assert future.exit_code == 1 and "has not ended yet" in future.output
    bad = run("payouts", "run", "--program", "Resale Program", "--period", "Q3")
    assert bad.exit_code == 1 and "fiscal quarter" in bad.output
    world.opportunity_a.currency = "EUR"
    world.opportunity_a.save()
    missing = run("payouts", "run", "--program", "Resale Program", "--period", "2026Q3")
    assert missing.exit_code == 1 and "No exchange rate for EUR" in missing.output
    assert not LedgerEntry.objects.exists()


def test_batch_then_mark_paid_writing_the_payment_file(world, paid_deal, tmp_path):
    assert run("payouts", "run", "--program", "Resale Program", "--period", "2026Q3").exit_code == 0
    assert run("payouts", "statements", "--period", "2026Q3", "--refresh").exit_code == 0
    nothing = run("payouts", "batch", "--currency", "USD")
    assert nothing.exit_code == 1 and "no approved statements in USD" in nothing.output
    statement = world.partner_a.statements.get()
    S.statement_approve(statement=statement, actor=world.finance)
    out = tmp_path / "pay.csv"
    made = run("payouts", "batch", "--currency", "usd", "--out", str(out), "--as", world.finance.email)
    assert made.exit_code == 0, made.output
    batch = PayoutBatch.objects.get()
    assert batch.public_id in made.output and "3000.00" in out.read_text()
    paid = run("payouts", "batch", "--mark-paid", batch.public_id, "--reference", "BANK-1")
    assert paid.exit_code == 0 and "paid" in paid.output
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PAID
    twice = run("payouts", "batch", "--mark-paid", batch.public_id)
    assert twice.exit_code == 1 and "already marked paid" in twice.output
    assert run("payouts", "batch").exit_code == 2
    assert run("payouts", "batch", "--mark-paid", "bat_nope").exit_code == 2


def test_simulate_prints_totals_and_partners(world, paid_deal):
    assert run("payouts", "run", "--program", "Resale Program", "--period", "2026Q3").exit_code == 0
    draft = programs.version_draft(program=paid_deal, actor=world.vendor_admin, today=date(2026, 10, 2))
    rule = draft.rules.get()
    programs.rule_save(version=draft, rule=rule, actor=world.vendor_admin, kind=rule.kind, name=rule.name,
                       params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "35", "silver": "20"}}]},
                       today=date(2026, 10, 2))
    result = run("payouts", "simulate", "--version", draft.public_id, "--periods", "2026Q2,2026Q3")
    assert result.exit_code == 0, result.output
    assert "500.00 USD" in result.output and world.partner_a.name in result.output and "1 gain, 0 lose" in result.output
    assert LedgerEntry.objects.count() == 1
    assert run("payouts", "simulate", "--version", "prv_nope", "--periods", "2026Q3").exit_code == 2
    many = ",".join(f"{year}Q{q}" for year in (2023, 2024, 2025) for q in (1, 2, 3, 4))
    too_many = run("payouts", "simulate", "--version", draft.public_id, "--periods", many)
    assert too_many.exit_code == 1 and "at most 10 quarters" in too_many.output
    future = run("payouts", "simulate", "--version", draft.public_id, "--periods", "2099Q1")
    assert future.exit_code == 1 and "closed quarters only" in future.output
