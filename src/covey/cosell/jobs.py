"""Co-selling's clock: the 24-hour question clock, escalation triggers, prospect-interaction news.

Each job is idempotent and safe to run twice at once: the question clock flags with a conditional
update, escalation triggers rely on the one-live-escalation-per-trigger constraint, and the
prospect watermark only moves forward from the value the run read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.db.models.functions import Coalesce

from covey.core.notify import notify
from covey.core.schedule import periodic
from covey.cosell import services
from covey.cosell.models import (
    DealQuestion,
    Engagement,
    EngagementRules,
    Escalation,
    EscalationLevel,
    EscalationTrigger,
    Side,
)
from covey.crm.models import CLOSED_STAGES, Activity, ActivityKind, Opportunity

BATCH = 500
# Kinds that are an exchange with the prospect; a note is the team talking to itself.
PROSPECT_KINDS = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.DEMO, ActivityKind.EMAIL)


@periodic("cosell.question_clock")
def question_clock(now: datetime) -> int:
    """Questions unanswered past their 24 hours: flag them overdue and remind the side asked, once."""
    due = (
        DealQuestion.objects.filter(answered_at__isnull=True, overdue_at__isnull=True, due_at__lt=now)
        .select_related("engagement__opportunity", "engagement__partner")[:BATCH]
    )
    return sum(services.remind_overdue_question(q, now=now) for q in due)


def _engaged_open_deals():
    """Only deals with a partner engagement are co-sold; the trigger jobs leave the rest of the CRM alone."""
    return Opportunity.objects.exclude(stage__in=CLOSED_STAGES).filter(
        Exists(Engagement.objects.filter(opportunity=OuterRef("pk")))
    )


def _without_live(qs, trigger: str):
    return qs.exclude(Exists(Escalation.objects.live().filter(opportunity=OuterRef("pk"), trigger=trigger)))


@periodic("cosell.escalation_triggers")
def escalation_triggers(now: datetime) -> int:
    """Raise a managers' escalation on deals stalled in a stage or with a silent prospect."""
    settings = EngagementRules.current()
    raised = 0
    stalled_before = now - timedelta(days=settings.stalled_days)
    stalled = _without_live(
        _engaged_open_deals().annotate(in_stage_since=Coalesce("stage_changed_at", "created_at"))
        .filter(in_stage_since__lt=stalled_before), EscalationTrigger.STALLED,
    ).select_related("owner")
    for opportunity in stalled[:BATCH]:
        days = (now - opportunity.in_stage_since).days
        services.raise_escalation(
            opportunity, level=EscalationLevel.MANAGERS, trigger=EscalationTrigger.STALLED,
            reason=f"The deal has been in “{opportunity.stage}” for {days} days (the limit is {settings.stalled_days}).",
            source="job",
        )
        raised += 1
    silent_before = now - timedelta(days=settings.prospect_silent_days)
    silent = _without_live(
        _engaged_open_deals().annotate(
            last_heard=Coalesce(Max("activities__occurred_at"), "created_at"),
        ).filter(last_heard__lt=silent_before), EscalationTrigger.SILENT,
    ).select_related("owner")
    for opportunity in silent[:BATCH]:
        days = (now - opportunity.last_heard).days
        services.raise_escalation(
            opportunity, level=EscalationLevel.MANAGERS, trigger=EscalationTrigger.SILENT,
            reason=f"No activity logged on the deal for {days} days (the limit is {settings.prospect_silent_days}).",
            source="job",
        )
        raised += 1
    return raised


@periodic("cosell.prospect_interactions")
def prospect_interactions(now: datetime) -> int:
    """Tell each deal team about prospect calls, meetings, demos and e-mails logged since last time.

    The partner side hears only of activities its own partner may see (those logged for it).
    """
    newer = Activity.objects.filter(
        opportunity_id=OuterRef("opportunity_id"), created_at__gt=OuterRef("prospect_watermark"),
        created_at__lte=now, kind__in=PROSPECT_KINDS,
    )
    engagements = (
        Engagement.objects.filter(Exists(newer)).exclude(opportunity__stage__in=CLOSED_STAGES)
        .select_related("opportunity", "partner")[:BATCH]
    )
    sent = 0
    for engagement in engagements:
        watermark = engagement.prospect_watermark
        activities = list(
            Activity.objects.filter(
                opportunity_id=engagement.opportunity_id, created_at__gt=watermark, created_at__lte=now,
                kind__in=PROSPECT_KINDS,
            ).select_related("created_by").order_by("created_at")
        )
        with transaction.atomic():
            # Only the run that moves the watermark from the value it read announces these.
            moved = Engagement.objects.filter(pk=engagement.pk, prospect_watermark=watermark).update(
                prospect_watermark=max(a.created_at for a in activities),
            )
            if not moved:
                continue
            team = list(engagement.team.select_related("user"))
            for activity in activities:
                audience = [
                    m.user for m in team
                    if m.side == Side.VENDOR or activity.partner_id == engagement.partner_id
                ]
                made = notify(
                    audience, kind="cosell.prospect_interaction",
                    title=f"{activity.get_kind_display()} with the prospect on {engagement.opportunity.name}: {activity.subject}",
                    body=f"Logged by {activity.created_by or 'someone'}.", url=services.room_url(engagement),
                    exclude=activity.created_by,
                )
                sent += len(made)
    return sent

