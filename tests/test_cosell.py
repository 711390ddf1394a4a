"""Co-selling: the engagement rules, start_engagement and raise_escalation (contracts other
features call), the deal room's services, and the clock-driven jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from covey.cosell import rules
from covey.cosell.rules import RuleSet, default_engagement_model

# --- rules (pure) ----------------------------------------------------------------------------

DEFAULTS = RuleSet()


@pytest.mark.parametrize(
    "amount, currency, types, sourced, expected",
    [
        (1_499_999, "USD", [], True, rules.SIMPLIFIED),  # just under 15,000.00
        (1_500_000, "USD", [], True, rules.PARTNER_LED),  # at the threshold: not small
        (1_500_000, "USD", [], False, rules.VENDOR_LED),
        (10_000_000, "USD", ["strategic_alliance"], True, rules.CO_SELL),
        (9_999_999, "USD", ["strategic_alliance"], False, rules.VENDOR_LED),  # strategic but below the value
        (50_000_000, "EUR", ["reseller"], True, rules.PARTNER_LED),  # big, but not strategic
        (1_000, "EUR", ["strategic_alliance"], True, rules.SIMPLIFIED),  # small wins over strategic
        (1_000, "JPY", [], True, rules.PARTNER_LED),  # no thresholds for JPY: sourcing decides
    ],
)
def test_default_engagement_model(amount, currency, types, sourced, expected):
    model, why = default_engagement_model(amount, currency, types, sourced, DEFAULTS)
    assert model == expected
    assert why


def test_the_reason_names_the_rule():
    assert "15,000.00 USD" in default_engagement_model(100, "USD", [], True, DEFAULTS)[1]
    assert "100,000.00 USD" in default_engagement_model(10_000_000, "USD", ["strategic_alliance"], True, DEFAULTS)[1]
    assert "No deal-size thresholds are set for JPY" in default_engagement_model(100, "JPY", [], False, DEFAULTS)[1]
    assert "Vendor-sourced" in default_engagement_model(100, "JPY", [], False, DEFAULTS)[1]


def test_extra_strategic_types_are_configurable():
    configured = RuleSet(strategic_types=frozenset({"system_integrator"}))
    assert default_engagement_model(20_000_000, "USD", ["system_integrator"], True, configured)[0] == rules.CO_SELL
    assert default_engagement_model(20_000_000, "USD", ["system_integrator"], True, DEFAULTS)[0] == rules.PARTNER_LED


def test_threshold_check_wants_strategic_above_small():
    assert rules.check_thresholds({"USD": 100}, {"USD": 200}) == []
    assert rules.check_thresholds({"USD": 300}, {"USD": 200})
    assert rules.check_thresholds({"USD": 300}, {}) == []


# --- start_engagement ------------------------------------------------------------------------


def _plans_ready() -> bool:
    try:
        from covey.plans.services import apply_template  # noqa: F401
    except ImportError:
        return False
    return True


needs_plans = pytest.mark.skipif(not _plans_ready(), reason="the plans engine is not in the tree yet")


@pytest.fixture
def started(world):
    from covey.cosell.services import start_engagement

    engagement = start_engagement(world.opportunity_a, partner=world.partner_a, sourced_by_partner=True, actor=world.partner_manager)
    return engagement


def test_start_engagement_picks_the_model_by_the_rules(world):
    from covey.cosell.services import start_engagement

    engagement = start_engagement(world.opportunity_a, partner=world.partner_a, sourced_by_partner=True, actor=world.partner_manager)
    assert engagement.model == "partner_led"  # 24,000.00 USD, a system integrator, sourced by the partner
    assert "Partner-sourced" in engagement.why
    world.opportunity_b.amount_minor = 1_000_00
    world.opportunity_b.save()
    small = start_engagement(world.opportunity_b, partner=world.partner_b, sourced_by_partner=False, actor=world.sales_rep)
    assert small.model == "simplified"


def test_start_engagement_is_idempotent(world, started):
    from covey.cosell.models import DealTeamMember, Engagement
    from covey.cosell.services import start_engagement

    again = start_engagement(world.opportunity_a, partner=world.partner_a, sourced_by_partner=False, actor=world.vendor_admin)
    assert again.pk == started.pk and again.model == "partner_led"
    assert Engagement.objects.count() == 1
    assert DealTeamMember.objects.filter(engagement=started).count() == 2


def test_start_engagement_builds_the_team_and_notifies_it(world, started):
    from covey.core.models import AuditEvent, Notification

    team = {(m.user, m.side) for m in started.team.select_related("user")}
    # The partner's admin (no submitter named) and the deal's vendor owner.
    assert team == {(world.a_admin, "partner"), (world.sales_rep, "vendor")}
    told = set(Notification.objects.filter(kind="cosell.engagement_started").values_list("recipient__email", flat=True))
    assert told == {world.a_admin.email, world.sales_rep.email}
    assert AuditEvent.objects.filter(object_id=started.public_id, action="create").exists()


def test_start_engagement_puts_the_named_partner_contact_on_the_team(world):
    from covey.cosell.services import start_engagement

    engagement = start_engagement(
        world.opportunity_a, partner=world.partner_a, sourced_by_partner=True, actor=world.partner_manager,
        partner_contact=world.a_rep,
    )
    assert engagement.team.filter(side="partner").get().user == world.a_rep


@needs_plans
def test_start_engagement_applies_the_models_plan_with_tasks_on_both_sides(world, started):
    from covey.plans.models import PlanTask

    assert started.plan is not None
    assert started.plan.opportunity_id == world.opportunity_a.pk and started.plan.partner_id == world.partner_a.pk
    tasks = PlanTask.objects.filter(plan=started.plan)
    assert tasks.filter(owner_side="partner").exists() and tasks.filter(owner_side="vendor").exists()
    assert not tasks.filter(due_date__isnull=True).exists()
    assert tasks.filter(owner_side="partner", assignee=world.a_admin).exists()
    assert tasks.filter(owner_side="vendor", assignee=world.sales_rep).exists()


def test_one_engagement_per_partner_and_deal_is_a_database_rule(world, started):
    from covey.cosell.models import Engagement

    with pytest.raises(IntegrityError), transaction.atomic():
        Engagement.objects.create(opportunity=world.opportunity_a, partner=world.partner_a, model="co_sell")


def test_changing_the_model_needs_a_reason_and_keeps_history(world, started):
    from covey.cosell.services import change_engagement_model

    with pytest.raises(ValidationError) as refused:
        change_engagement_model(started, model="co_sell", reason="  ", actor=world.partner_manager)
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError):
        change_engagement_model(started, model="partner_led", reason="No change", actor=world.partner_manager)
    change = change_engagement_model(started, model="co_sell", reason="Both products matter equally", actor=world.partner_manager)
    started.refresh_from_db()
    assert started.model == "co_sell" and "Both products" in started.why
    assert (change.from_model, change.to_model) == ("partner_led", "co_sell")
    assert list(started.changes.all()) == [change]


@needs_plans
def test_replanning_keeps_the_old_plan(world, started):
    from covey.cosell.services import change_engagement_model
    from covey.plans.models import Plan

    old = started.plan
    change_engagement_model(started, model="co_sell", reason="Strategic now", actor=world.partner_manager, replan=True)
    started.refresh_from_db()
    assert started.plan_id != old.pk
    assert Plan.objects.filter(pk=old.pk).exists()
    assert started.plan.template.engagement_model == "co_sell"


# --- raise_escalation ------------------------------------------------------------------------


def test_raise_escalation_for_a_trigger_is_idempotent(world):
    from covey.core.models import Notification
    from covey.cosell.models import Escalation
    from covey.cosell.services import raise_escalation

    first = raise_escalation(world.opportunity_a, level=4, trigger="non_standard_pricing", reason="30 % discount asked")
    second = raise_escalation(world.opportunity_a, level=4, trigger="non_standard_pricing", reason="Again")
    assert first.pk == second.pk
    assert Escalation.objects.count() == 1
    assert first.raised_by is None and first.status == "open"
    # From level 2 up, the partner manager of the deal's primary partner owns it, and hears of it.
    assert first.owner == world.partner_manager
    assert Notification.objects.filter(kind="cosell.escalation_raised", recipient=world.partner_manager).count() == 1


def test_manual_escalations_may_repeat_and_level_one_goes_to_the_deal_owner(world):
    from covey.cosell.services import raise_escalation

    a = raise_escalation(world.opportunity_a, level=1, trigger="manual", reason="Demo date", actor=world.a_rep, partner=world.partner_a)
    b = raise_escalation(world.opportunity_a, level=1, trigger="manual", reason="Pricing sheet", actor=world.a_rep, partner=world.partner_a)
    assert a.pk != b.pk
    assert a.owner == world.sales_rep


def test_raise_escalation_refuses_bad_input(world):
    from covey.cosell.services import raise_escalation

    with pytest.raises(ValidationError) as refused:
        raise_escalation(world.opportunity_a, level=7, trigger="whim", reason="")
    assert set(refused.value.message_dict) == {"level", "trigger", "reason"}
    with pytest.raises(ValidationError):
        raise_escalation(world.opportunity_a, level=1, trigger="manual", reason="x", partner=world.partner_b)


def test_one_live_escalation_per_trigger_is_a_database_rule(world):
    from covey.cosell.models import Escalation

    Escalation.objects.create(opportunity=world.opportunity_a, level=2, trigger="prospect_silent", reason="r")
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(opportunity=world.opportunity_a, level=2, trigger="prospect_silent", reason="r")
    # A resolved one no longer counts, and manual ones never do.
    Escalation.objects.update(status="resolved", resolution="Called them")
    Escalation.objects.create(opportunity=world.opportunity_a, level=2, trigger="prospect_silent", reason="r")
    Escalation.objects.create(opportunity=world.opportunity_a, level=1, trigger="manual", reason="r")
    Escalation.objects.create(opportunity=world.opportunity_a, level=1, trigger="manual", reason="r")
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(opportunity=world.opportunity_a, level=2, trigger="manual", status="resolved", reason="r")


def test_resolving_needs_a_resolution_and_reopening_a_duplicate_is_refused(world):
    from covey.cosell.services import (
        raise_escalation,
        resolve_escalation,
        take_escalation,
        update_escalation,
    )

    esc = raise_escalation(world.opportunity_a, level=2, trigger="stalled_in_stage", reason="Stuck")
    take_escalation(esc, actor=world.other_manager)
    esc.refresh_from_db()
    assert esc.owner == world.other_manager and esc.status == "in_progress"
    with pytest.raises(ValidationError):
        resolve_escalation(esc, resolution=" ", actor=world.other_manager)
    resolve_escalation(esc, resolution="Exec call booked", actor=world.other_manager)
    esc.refresh_from_db()
    assert esc.status == "resolved" and esc.resolved_by == world.other_manager and esc.resolved_at
    raise_escalation(world.opportunity_a, level=2, trigger="stalled_in_stage", reason="Stuck again")
    with pytest.raises(ValidationError) as refused:
        update_escalation(esc, actor=world.vendor_admin, status="open")
    assert "status" in refused.value.message_dict


def test_a_partner_person_owns_only_escalations_raised_for_its_partner(world):
    from covey.cosell.permissions import can_work_escalation
    from covey.cosell.services import raise_escalation, update_escalation

    esc = raise_escalation(world.opportunity_a, level=1, trigger="manual", reason="x", actor=world.a_rep, partner=world.partner_a)
    with pytest.raises(ValidationError):
        update_escalation(esc, actor=world.vendor_admin, owner=world.b_admin)
    update_escalation(esc, actor=world.vendor_admin, owner=world.a_admin)
    esc.refresh_from_db()
    assert esc.owner == world.a_admin
    # A triggered one names no partner: on a shared deal a partner's owner would show the others who
    # else is on it, so only the vendor owns and works it.
    triggered = raise_escalation(world.opportunity_a, level=2, trigger="prospect_silent", reason="quiet")
    with pytest.raises(ValidationError):
        update_escalation(triggered, actor=world.vendor_admin, owner=world.a_admin)
    assert not can_work_escalation(world.a_admin, triggered) and can_work_escalation(world.a_admin, esc)
    assert can_work_escalation(world.sales_rep, triggered) and not can_work_escalation(world.finance, triggered)


# --- deal room services ----------------------------------------------------------------------


def test_team_rules(world, started):
    from covey.core.models import Notification
    from covey.cosell.services import add_team_member

    member = add_team_member(started, user=world.a_rep, role="partner_rep", actor=world.a_admin)
    assert member.side == "partner"
    assert Notification.objects.filter(kind="cosell.team_added", recipient=world.a_rep).count() == 1
    with pytest.raises(ValidationError):  # already on it
        add_team_member(started, user=world.a_rep, role="partner_rep", actor=world.a_admin)
    with pytest.raises(ValidationError):  # another partner's person
        add_team_member(started, user=world.b_rep, role="partner_rep", actor=world.sales_rep)
    with pytest.raises(ValidationError):  # a partner user adds only its own people
        add_team_member(started, user=world.executive, role="executive_sponsor", actor=world.a_admin)
    add_team_member(started, user=world.executive, role="executive_sponsor", actor=world.sales_rep)
    assert started.team.count() == 4


def test_questions_have_a_24_hour_clock(world, started):
    from covey.core.models import Notification
    from covey.cosell.services import answer_question, ask_question

    asked = timezone.now()
    question = ask_question(started, body="Can you join the demo on Tuesday?", actor=world.a_admin, now=asked)
    assert question.to_side == "vendor" and question.due_at == asked + timedelta(hours=24)
    assert Notification.objects.filter(kind="cosell.question_asked", recipient=world.sales_rep).exists()
    answer_question(question, answer="Yes, with a sales engineer.", actor=world.sales_rep)
    question.refresh_from_db()
    assert question.answered_by == world.sales_rep and not question.is_overdue()
    assert Notification.objects.filter(kind="cosell.question_answered", recipient=world.a_admin).exists()
    with pytest.raises(ValidationError):
        answer_question(question, answer="Again", actor=world.sales_rep)


# --- jobs with a controlled clock ------------------------------------------------------------


def test_question_clock_flags_once_and_reminds_once(world, started):
    from covey.core.models import Notification
    from covey.core.schedule import run_jobs
    from covey.cosell.models import DealQuestion
    from covey.cosell.services import answer_question, ask_question

    asked = timezone.now()
    late = ask_question(started, body="Pricing sheet?", actor=world.sales_rep, now=asked)
    answered = ask_question(started, body="Who is the sponsor?", actor=world.sales_rep, now=asked)
    answer_question(answered, answer="The CFO", actor=world.a_admin)

    assert run_jobs(asked + timedelta(hours=23), only="cosell.question_clock") == {"cosell.question_clock": 0}
    assert run_jobs(asked + timedelta(hours=25), only="cosell.question_clock") == {"cosell.question_clock": 1}
    assert run_jobs(asked + timedelta(hours=26), only="cosell.question_clock") == {"cosell.question_clock": 0}
    late.refresh_from_db()
    assert late.overdue_at == asked + timedelta(hours=25) and late.is_overdue()
    assert not DealQuestion.objects.get(pk=answered.pk).overdue_at
    reminders = Notification.objects.filter(kind="cosell.question_overdue")
    assert list(reminders.values_list("recipient", flat=True)) == [world.a_admin.pk]


def test_escalation_triggers_with_a_controlled_clock(world, started):
    from covey.core.models import Notification
    from covey.core.schedule import run_jobs
    from covey.cosell.models import Escalation
    from covey.crm.models import Activity, Opportunity

    now = timezone.now()
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage_changed_at=now - timedelta(days=10), created_at=now - timedelta(days=40))
    Activity.objects.filter(opportunity=world.opportunity_a).update(occurred_at=now - timedelta(days=5))
    # Deal B has no engagement: the triggers leave it alone however old it is.
    Opportunity.objects.filter(pk=world.opportunity_b.pk).update(created_at=now - timedelta(days=400))

    assert run_jobs(now, only="cosell.escalation_triggers")["cosell.escalation_triggers"] == 0
    later = now + timedelta(days=12)  # 22 days in the stage, 17 silent
    assert run_jobs(later, only="cosell.escalation_triggers")["cosell.escalation_triggers"] == 2
    assert run_jobs(later, only="cosell.escalation_triggers")["cosell.escalation_triggers"] == 0
    found = {e.trigger: e for e in Escalation.objects.all()}
    assert set(found) == {"stalled_in_stage", "prospect_silent"}
    assert all(e.opportunity_id == world.opportunity_a.pk and e.level == 2 and e.raised_by is None for e in found.values())
    assert "22 days" in found["stalled_in_stage"].reason
    assert Notification.objects.filter(kind="cosell.escalation_raised", recipient=world.partner_manager).count() == 2


def test_a_stage_change_falls_back_to_created_at_and_closed_deals_are_skipped(world, started):
    from covey.core.schedule import run_jobs
    from covey.cosell.models import Escalation
    from covey.crm.models import Activity, Opportunity

    now = timezone.now()
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage_changed_at=None, created_at=now - timedelta(days=30))
    Activity.objects.filter(opportunity=world.opportunity_a).update(occurred_at=now)
    run_jobs(now, only="cosell.escalation_triggers")
    assert list(Escalation.objects.values_list("trigger", flat=True)) == ["stalled_in_stage"]
    Escalation.objects.update(status="resolved", resolution="Moved on")
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage="Closed Won")
    run_jobs(now + timedelta(days=60), only="cosell.escalation_triggers")
    assert Escalation.objects.live().count() == 0


def test_prospect_interactions_are_announced_once_and_per_side(world, started):
    from covey.core.models import Notification
    from covey.core.schedule import run_jobs
    from covey.crm.models import Activity

    now = timezone.now()
    Activity.objects.create(
        kind="call", subject="Discovery call", opportunity=world.opportunity_a, partner=world.partner_a,
        created_by=world.a_rep, created_at=now + timedelta(minutes=1),
    )
    Activity.objects.create(  # vendor-only: the partner side may not see it, so is not told
        kind="email", subject="Vendor pricing mail", opportunity=world.opportunity_a, created_by=world.vendor_admin,
        created_at=now + timedelta(minutes=2),
    )
    Activity.objects.create(  # an internal note is not a prospect interaction
        kind="note", subject="Internal", opportunity=world.opportunity_a, partner=world.partner_a,
        created_by=world.a_rep, created_at=now + timedelta(minutes=3),
    )
    moment = now + timedelta(minutes=5)
    run_jobs(moment, only="cosell.prospect_interactions")
    run_jobs(moment, only="cosell.prospect_interactions")
    told = sorted(Notification.objects.filter(kind="cosell.prospect_interaction").values_list("recipient__email", "title"))
    assert told == [
        (world.a_admin.email, "Call with the prospect on Deal A: Discovery call"),
        (world.sales_rep.email, "Call with the prospect on Deal A: Discovery call"),
        (world.sales_rep.email, "E-mail with the prospect on Deal A: Vendor pricing mail"),
    ]
