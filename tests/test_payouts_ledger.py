"""The payout ledger end to end on the database: a worked example, reruns, reversals, the append-only rule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from covey.crm.models import DealEvent, Opportunity, OpportunityPartner, Stage
from covey.payouts.models import FxRate, LedgerEntry
from covey.payouts.services import quarter_run
from covey.programs import services as programs

AFTER_Q3 = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)


def won(world, amount_minor=1_000_000, closed=date(2026, 8, 14)):
    opp = world.opportunity_a
    opp.stage, opp.amount_minor, opp.currency, opp.close_date = Stage.CLOSED_WON, amount_minor, "USD", closed
    opp.save()
    OpportunityPartner.objects.filter(opportunity=opp, partner=world.partner_a).update(role="reseller", is_primary=True)
    return opp


def test_gold_reseller_closes_ten_thousand_and_the_ledger_explains_the_three_thousand(world, gold_program):
    opp = won(world)
    DealEvent.objects.create(opportunity=opp, kind="paid", occurred_on=date(2026, 9, 1), amount_minor=1_000_000)
    run = quarter_run(program=gold_program, period_key="2026Q3", actor=world.finance, now=AFTER_Q3)
    entry = LedgerEntry.objects.get()
    assert (entry.partner, entry.amount_minor, entry.currency, entry.source) == (world.partner_a, 300_000, "USD", "deal")
    assert entry.explanation == (f"30% reseller margin (Gold, deals of any size) on 10,000.00 USD of "
                                 f"{opp.account.name} ({opp.public_id}) = 3,000.00 USD")
    assert entry.base_minor == 1_000_000 and str(entry.rate) == "0.300000"
    assert entry.awaits_payment and entry.payout_delay_days == 30
    from covey.payouts.statements import payable_on

    assert payable_on(entry) == date(2026, 10, 1)  # paid 1 September + 30 days
    assert run.figures["new_entries"] == 1


def test_running_a_quarter_twice_posts_nothing_the_second_time(world, gold_program):
    won(world)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    second = quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    assert LedgerEntry.objects.count() == 1
    assert (second.figures["new_entries"], second.figures["reversals"], second.figures["unchanged"]) == (0, 0, 1)


def test_a_changed_deal_posts_a_reversal_and_the_new_amount(world, gold_program):
    won(world)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(amount_minor=1_200_000)
    rerun = quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    amounts = list(LedgerEntry.objects.order_by("id").values_list("amount_minor", flat=True))
    assert amounts == [300_000, -300_000, 360_000]
    reversal = LedgerEntry.objects.order_by("id")[1]
    assert reversal.reverses_id == LedgerEntry.objects.order_by("id")[0].id
    assert reversal.explanation.startswith("Reversal (recalculated 2026-10-02): 30% reseller margin")
    assert sum(amounts) == 360_000 and rerun.figures["reversals"] == 1


def test_a_deal_that_is_no_longer_won_is_reversed(world, gold_program):
    won(world)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage=Stage.CLOSED_LOST)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    assert sum(LedgerEntry.objects.values_list("amount_minor", flat=True)) == 0


def test_the_database_refuses_to_change_or_delete_a_posted_entry(world, gold_program):
    won(world)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.update(amount_minor=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.all().delete()
    with pytest.raises(RuntimeError):
        LedgerEntry.objects.get().save()
    assert LedgerEntry.objects.get().amount_minor == 300_000


def test_missing_exchange_rates_stop_the_run_and_post_nothing(world, gold_program):
    opp = won(world)
    Opportunity.objects.filter(pk=opp.pk).update(currency="EUR")
    with pytest.raises(ValidationError) as caught:
        quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    assert "No exchange rate for EUR in 2026Q3" in str(caught.value)
    assert not LedgerEntry.objects.exists()
    FxRate.objects.create(period_key="2026Q3", currency="EUR", base_currency="USD", per_base="1.08")
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)
    assert LedgerEntry.objects.get().currency == "EUR"


def test_a_quarter_that_has_not_ended_is_not_run(world, gold_program):
    with pytest.raises(ValidationError):
        quarter_run(program=gold_program, period_key="2026Q3", now=datetime(2026, 9, 15, tzinfo=UTC))


def test_editing_a_locked_version_is_refused_and_recorded(world, gold_program):
    from covey.core.models import AuditEvent

    version = gold_program.versions.get()
    with pytest.raises(ValidationError) as caught:
        programs.rule_save(version=version, actor=world.vendor_admin, kind="cap", name="Cap",
                           params={"scope": "deal", "currency": "USD", "amount": "100"}, today=date(2026, 8, 1))
    assert "locked" in str(caught.value)
    refused = AuditEvent.objects.get(action="refused")
    assert refused.actor == world.vendor_admin and "add rule Cap" in str(refused.changes)
    assert version.rules.count() == 1
