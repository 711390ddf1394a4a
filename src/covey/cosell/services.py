"""Co-selling workflows: engagements, the deal room's records, escalations and the rules.

Views, the API, other features (registrations convert a deal and call ``start_engagement``; joint
proposals call ``raise_escalation`` for non-standard pricing) and the periodic jobs call these.
Each validates, writes inside a transaction, leaves an audit record and tells the people waiting
on it. Errors are ``ValidationError`` with messages for the person who caused them.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from covey.core import audit
from covey.core.models import User
from covey.core.notify import notify
from covey.core.services import update_object
from covey.core.validators import clean_text
from covey.core.vocab import EngagementModel
from covey.cosell import rules
from covey.cosell.models import (
    QUESTION_RESPONSE_TIME,
    DealNote,
    DealQuestion,
    DealTeamMember,
    Engagement,
    EngagementChange,
    EngagementRules,
    Escalation,
    EscalationLevel,
    EscalationStatus,
    EscalationTrigger,
    MeetingRecord,
    Side,
    TeamRole,
    side_of,
)
from covey.partners.models import Membership, PartnerRole

REASON_REQUIRED = "Say why the engagement model changes."
SAME_MODEL = "The engagement already uses that model."
ALREADY_ON_TEAM = "{user} is already on the deal team."
NOT_OF_PARTNER = "{user} does not work for {partner}, so cannot join its side of the deal team."
PARTNER_ADDS_OWN = "Partner users add people of their own partner; ask the vendor's team to add its people."
INACTIVE_USER = "{user} is deactivated."
EMPTY_NOTE = "Write something in the note."
EMPTY_QUESTION = "Write the question."
EMPTY_ANSWER = "Write the answer."
ALREADY_ANSWERED = "This question was already answered."
ESCALATION_REASON_REQUIRED = "Say why the deal is escalated."
RESOLUTION_REQUIRED = "Say how the escalation was resolved."
ALREADY_RESOLVED = "This escalation is already resolved."
OWNER_CANNOT_SEE = "{user} cannot own this escalation: it is not raised for their partner."
LIVE_TRIGGER_EXISTS = "Another escalation of this deal for the same trigger is still open."
NOT_ON_DEAL = "{partner} is not on this opportunity."


def room_url(engagement: Engagement) -> str:
    base = reverse("deal_room", kwargs={"public_id": engagement.opportunity.public_id})
    return f"{base}?partner={engagement.partner.public_id}"


def _team_users(engagement: Engagement, side: str | None = None) -> list[User]:
    members = engagement.team.select_related("user")
    if side:
        members = members.filter(side=side)
    return [m.user for m in members]


def _partner_admins(partner) -> list[User]:
    return [m.user for m in Membership.objects.filter(partner=partner, role=PartnerRole.ADMIN).select_related("user")]


# --- engagements -----------------------------------------------------------------------------


def _partner_contact(partner, actor, partner_contact) -> User | None:
    """Who speaks for the partner on a new deal: the person named, the actor if they work for the
    partner, else its first admin (or, without one, its first rep)."""
    for candidate in (partner_contact, actor):
        if candidate is not None and not candidate.is_vendor and candidate.is_active:
            membership = candidate.membership
            if membership and membership.partner_id == partner.id and membership.can_write:
                return candidate
    for role in (PartnerRole.ADMIN, PartnerRole.REP):
        membership = (
            Membership.objects.filter(partner=partner, role=role, user__is_active=True)
            .select_related("user").order_by("created_at", "id").first()
        )
        if membership:
            return membership.user
    return None


def _vendor_owner(opportunity, partner) -> tuple[User | None, str]:
    owner = opportunity.owner
    if owner is not None and owner.is_vendor and owner.is_active:
        return owner, TeamRole.ACCOUNT_EXECUTIVE
    manager = partner.owner
    if manager is not None and manager.is_active:
        return manager, TeamRole.PARTNER_MANAGER
    return None, TeamRole.OTHER


def _apply_plan(engagement: Engagement, *, actor, source: str, partner_assignee, vendor_assignee):
    """The default plan template of the engagement's model, applied from today (None without one)."""
    from covey.plans.models import PlanTemplate
    from covey.plans.services import apply_template

    template = PlanTemplate.objects.default_for(engagement.model)
    if template is None:
        return None
    return apply_template(
        template, partner=engagement.partner, start=timezone.localdate(), actor=actor,
        opportunity=engagement.opportunity, partner_assignee=partner_assignee, vendor_assignee=vendor_assignee,
        name=f"{engagement.opportunity.name} · {engagement.partner.name}", source=source,
    )


def start_engagement(
    opportunity, *, partner, sourced_by_partner: bool, actor, source: str = "web", partner_contact=None,
) -> Engagement:
    """Open the deal room of ``partner`` on ``opportunity``; the existing one if it is already open.

    Picks the engagement model by the rules, applies that model's default plan template, puts the
    partner's contact (``partner_contact``, else the actor if they work for the partner, else its
    admin) and the vendor's owner of the deal on the team, and tells them.
    """
    existing = Engagement.objects.filter(opportunity=opportunity, partner=partner).first()
    if existing is not None:
        return existing
    rule_set = EngagementRules.current().rule_set()
    model, why = rules.default_engagement_model(
        opportunity.amount_minor, opportunity.currency, partner.type_codes, sourced_by_partner, rule_set,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: losing a race to a concurrent start is not an error
                engagement = Engagement.objects.create(
                    opportunity=opportunity, partner=partner, model=model, why=why,
                    sourced_by_partner=sourced_by_partner, created_by=actor if actor is not None and actor.pk else None,
                )
        except IntegrityError:
            return Engagement.objects.get(opportunity=opportunity, partner=partner)
        audit.record(
            actor=actor, action="create", obj=engagement, source=source,
            changes={"model": [None, model], "why": [None, why], "sourced_by_partner": [None, sourced_by_partner]},
        )
        contact = _partner_contact(partner, actor, partner_contact)
        vendor_owner, vendor_role = _vendor_owner(opportunity, partner)
        team = []
        if vendor_owner is not None:
            team.append(DealTeamMember(engagement=engagement, user=vendor_owner, side=Side.VENDOR, role=vendor_role))
        if contact is not None:
            team.append(DealTeamMember(engagement=engagement, user=contact, side=Side.PARTNER, role=TeamRole.PARTNER_REP))
        for member in team:
            member.added_by = actor if actor is not None and actor.pk else None
            member.save()
        plan = _apply_plan(engagement, actor=actor, source=source, partner_assignee=contact, vendor_assignee=vendor_owner)
        if plan is not None:
            engagement.plan = plan
            engagement.save(update_fields=["plan"])
        notify(
            [m.user for m in team], kind="cosell.engagement_started",
            title=f"You are on the deal team for {opportunity.name}",
            body=f"{partner.name} and the vendor work this deal as {EngagementModel(model).label.lower()}. {why}",
            url=room_url(engagement), exclude=actor,
        )
    return engagement


@transaction.atomic
def change_engagement_model(
    engagement: Engagement, *, model: str, reason: str, actor, replan: bool = False, source: str = "web",
) -> EngagementChange:
    """Switch who leads; the reason is kept. ``replan`` applies the new model's default template as a
    new plan (the old plan and its ticked tasks stay as they were, only no longer the deal's plan)."""
    reason = (reason or "").strip()
    errors = {}
    if model not in EngagementModel.values:
        errors["model"] = f"Choose one of {', '.join(EngagementModel.values)}."
    elif model == engagement.model:
        errors["model"] = SAME_MODEL
    if not reason:
        errors["reason"] = REASON_REQUIRED
    elif len(reason) > 2000:
        errors["reason"] = "Keep the reason under 2,000 characters."
    if errors:
        raise ValidationError(errors)
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    before = engagement.model
    change = EngagementChange.objects.create(
        engagement=engagement, from_model=before, to_model=model, reason=reason, replanned=replan, changed_by=actor,
    )
    engagement.model = model
    engagement.why = f"Changed from {EngagementModel(before).label.lower()}: {reason}"[:300]
    fields = ["model", "why"]
    if replan:
        team = engagement.team.select_related("user")
        partner_assignee = next((m.user for m in team if m.side == Side.PARTNER), None)
        vendor_assignee = next((m.user for m in team if m.side == Side.VENDOR), None)
        plan = _apply_plan(engagement, actor=actor, source=source, partner_assignee=partner_assignee, vendor_assignee=vendor_assignee)
        if plan is not None:
            engagement.plan = plan
            fields.append("plan")
    engagement.save(update_fields=fields)
    audit.record(
        actor=actor, action="transition", obj=engagement, source=source,
        changes={"model": [before, model], "reason": [None, reason], **({"plan": [None, str(engagement.plan)]} if "plan" in fields else {})},
    )
    notify(
        _team_users(engagement), kind="cosell.model_changed",
        title=f"{engagement.opportunity.name} is now {EngagementModel(model).label.lower()}",
        body=reason, url=room_url(engagement), exclude=actor,
    )
    return change


# --- the deal team ---------------------------------------------------------------------------


@transaction.atomic
def add_team_member(engagement: Engagement, *, user: User, role: str, actor, source: str = "web") -> DealTeamMember:
    if not user.is_active:
        raise ValidationError({"user": INACTIVE_USER.format(user=user)})
    side = side_of(user)
    if side == Side.PARTNER:
        membership = user.membership
        if membership is None or membership.partner_id != engagement.partner_id:
            raise ValidationError({"user": NOT_OF_PARTNER.format(user=user, partner=engagement.partner)})
    elif actor is not None and not actor.is_vendor:
        raise ValidationError({"user": PARTNER_ADDS_OWN})
    if role not in TeamRole.values:
        raise ValidationError({"role": f"Choose one of {', '.join(TeamRole.values)}."})
    if engagement.team.filter(user=user).exists():
        raise ValidationError({"user": ALREADY_ON_TEAM.format(user=user)})
    try:
        with transaction.atomic():
            member = DealTeamMember.objects.create(engagement=engagement, user=user, side=side, role=role, added_by=actor)
    except IntegrityError:
        raise ValidationError({"user": ALREADY_ON_TEAM.format(user=user)}) from None
    audit.record(
        actor=actor, action="update", obj=engagement, source=source,
        changes={"team": [None, f"{user} ({member.get_role_display()}, {member.get_side_display().lower()})"]},
    )
    opportunity = engagement.opportunity
    notify(
        [user], kind="cosell.team_added", title=f"You were added to the deal team for {opportunity.name}",
        body=f"Role: {member.get_role_display()}. Added by {actor}.", url=room_url(engagement), exclude=actor,
    )
    return member


@transaction.atomic
def remove_team_member(member: DealTeamMember, *, actor, source: str = "web") -> None:
    audit.record(
        actor=actor, action="update", obj=member.engagement, source=source,
        changes={"team": [f"{member.user} ({member.get_role_display()})", None]},
    )
    member.delete()


# --- notes, meetings, questions --------------------------------------------------------------


@transaction.atomic
def add_note(engagement: Engagement, *, body: str, actor, source: str = "web") -> DealNote:
    body = clean_text(body, field="body", limit=10_000, required=EMPTY_NOTE)
    note = DealNote.objects.create(engagement=engagement, author=actor, side=side_of(actor), body=body)
    audit.record(actor=actor, action="create", obj=note, source=source, changes={"engagement": [None, engagement.public_id]})
    return note


MEETING_FIELDS = (
    "kind", "meeting_date", "title", "agenda", "leads", "key_messages", "follow_ups", "learnings", "next_steps", "concerns",
)


@transaction.atomic
def add_meeting_record(engagement: Engagement, *, actor, source: str = "web", **values) -> MeetingRecord:
    unknown = set(values) - set(MEETING_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    values = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    record = MeetingRecord(engagement=engagement, created_by=actor, **values)
    record.full_clean(exclude=["engagement", "created_by"])
    record.save()
    audit.record(
        actor=actor, action="create", obj=record, source=source,
        changes={"engagement": [None, engagement.public_id], "meeting_date": [None, record.meeting_date.isoformat()]},
    )
    notify(
        _team_users(engagement), kind="cosell.meeting_record",
        title=f"{record.get_kind_display()} for {engagement.opportunity.name}: {record.title}",
        url=room_url(engagement), email=False, exclude=actor,
    )
    return record


def _side_people(engagement: Engagement, side: str) -> list[User]:
    """Who answers for one side: its members of the deal team, else the deal's owner (vendor) or
    the partner's admins (partner)."""
    people = _team_users(engagement, side)
    if people:
        return people
    if side == Side.VENDOR:
        owner, _ = _vendor_owner(engagement.opportunity, engagement.partner)
        return [owner] if owner else []
    return _partner_admins(engagement.partner)


@transaction.atomic
def ask_question(
    engagement: Engagement, *, body: str, actor, to_side: str | None = None, now: datetime | None = None, source: str = "web",
) -> DealQuestion:
    body = clean_text(body, field="body", limit=5_000, required=EMPTY_QUESTION)
    if to_side is None:
        to_side = Side.PARTNER if side_of(actor) == Side.VENDOR else Side.VENDOR
    if to_side not in Side.values:
        raise ValidationError({"to_side": "Ask the partner or the vendor."})
    asked_at = now or timezone.now()
    question = DealQuestion.objects.create(
        engagement=engagement, asked_by=actor, to_side=to_side, body=body,
        asked_at=asked_at, due_at=asked_at + QUESTION_RESPONSE_TIME,
    )
    audit.record(actor=actor, action="create", obj=question, source=source, changes={"to_side": [None, to_side]})
    notify(
        _side_people(engagement, to_side), kind="cosell.question_asked",
        title=f"Question on {engagement.opportunity.name} (answer within 24 hours)",
        body=f"{actor} asks: {body}", url=room_url(engagement), exclude=actor,
    )
    return question


@transaction.atomic
def answer_question(question: DealQuestion, *, answer: str, actor, source: str = "web") -> DealQuestion:
    answer = clean_text(answer, field="answer", limit=10_000, required=EMPTY_ANSWER)
    # Conditional update: two people answering at once cannot both win.
    now = timezone.now()
    updated = DealQuestion.objects.filter(pk=question.pk, answered_at__isnull=True).update(
        answer=answer, answered_by=actor, answered_at=now,
    )
    if not updated:
        raise ValidationError(ALREADY_ANSWERED)
    question.refresh_from_db()
    audit.record(actor=actor, action="transition", obj=question, source=source, changes={"answered": [None, now.isoformat()]})
    engagement = question.engagement
    notify(
        [question.asked_by], kind="cosell.question_answered",
        title=f"Your question on {engagement.opportunity.name} was answered",
        body=f"{actor}: {answer}", url=room_url(engagement), exclude=actor,
    )
    return question


def remind_overdue_question(question: DealQuestion, *, now: datetime) -> bool:
    """Flag one unanswered question as overdue and send its one reminder; False if someone else did."""
    with transaction.atomic():
        flagged = DealQuestion.objects.filter(pk=question.pk, answered_at__isnull=True, overdue_at__isnull=True).update(
            overdue_at=now,
        )
        if not flagged:
            return False
        engagement = question.engagement
        notify(
            _side_people(engagement, question.to_side), kind="cosell.question_overdue",
            title=f"Overdue: a question on {engagement.opportunity.name} waits for an answer",
            body=question.body, url=room_url(engagement),
        )
    return True


# --- escalations -----------------------------------------------------------------------------


def _default_owner(opportunity, level: int, partner) -> User | None:
    """Level 1 stays with the deal's owner; from level 2 up the partner manager takes it on."""
    if level >= EscalationLevel.MANAGERS:
        if partner is None:
            link = opportunity.partner_links.filter(is_primary=True).select_related("partner__owner").first()
            partner = link.partner if link else None
        manager = partner.owner if partner is not None else None
        if manager is not None and manager.is_active:
            return manager
    owner = opportunity.owner
    return owner if owner is not None and owner.is_active else None


def _check_owner(escalation: Escalation, user: User) -> None:
    """Vendor staff own any escalation; a partner's person only one raised for its own partner, so
    an owner's name never tells another partner on the deal who else is on it."""
    if not user.is_active:
        raise ValidationError({"owner": INACTIVE_USER.format(user=user)})
    if user.is_vendor:
        return
    membership = user.membership
    if escalation.partner_id is not None and membership is not None and membership.partner_id == escalation.partner_id:
        return
    raise ValidationError({"owner": OWNER_CANNOT_SEE.format(user=user)})


def escalation_url(escalation: Escalation) -> str:
    return reverse("escalation_detail", kwargs={"public_id": escalation.public_id})


def raise_escalation(
    opportunity, *, level: int, trigger: str, reason: str, actor=None, partner=None, owner=None, source: str = "web",
) -> Escalation:
    """Escalate a deal. A trigger (anything but ``manual``) has at most one live escalation per deal:
    raising it again returns the live one, so jobs and features may call this freely."""
    errors = {}
    if level not in EscalationLevel.values:
        errors["level"] = "The level is 1 (reps), 2 (managers), 3 (executives) or 4 (deal desk and legal)."
    if trigger not in EscalationTrigger.values:
        errors["trigger"] = f"Choose one of {', '.join(EscalationTrigger.values)}."
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = ESCALATION_REASON_REQUIRED
    elif len(reason) > 5_000:
        errors["reason"] = "Keep the reason under 5,000 characters."
    if partner is not None and not opportunity.partner_links.filter(partner=partner).exists():
        errors["partner"] = NOT_ON_DEAL.format(partner=partner)
    if errors:
        raise ValidationError(errors)

    def live():
        if trigger == EscalationTrigger.MANUAL:
            return None
        return Escalation.objects.live().filter(opportunity=opportunity, trigger=trigger).first()

    if (found := live()) is not None:
        return found
    actor = actor if actor is not None and actor.pk else None
    with transaction.atomic():
        try:
            with transaction.atomic():
                escalation = Escalation.objects.create(
                    opportunity=opportunity, partner=partner, level=level, trigger=trigger, reason=reason,
                    raised_by=actor, owner=owner or _default_owner(opportunity, level, partner),
                )
        except IntegrityError:
            found = live()
            if found is None:
                raise
            return found
        if owner is not None:
            _check_owner(escalation, owner)
        audit.record(
            actor=actor, action="create", obj=escalation, source=source,
            changes={"level": [None, level], "trigger": [None, trigger], "owner": [None, str(escalation.owner or "")]},
        )
        notify(
            [escalation.owner], kind="cosell.escalation_raised",
            title=f"Escalation (level {level}) on {opportunity.name}: {escalation.get_trigger_display().lower()}",
            body=reason, url=escalation_url(escalation), exclude=actor,
        )
    return escalation


@transaction.atomic
def update_escalation(
    escalation: Escalation, *, actor, status: str | None = None, owner: User | None = None,
    resolution: str | None = None, level: int | None = None, source: str = "web",
) -> dict:
    """Move an escalation along: status, owner, level; resolving needs a resolution. Returns the diff."""
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    fields = ["status", "owner", "resolution", "level", "resolved_at", "resolved_by"]
    before = audit.snapshot(escalation, fields)
    previous_owner_id = escalation.owner_id
    if level is not None:
        if level not in EscalationLevel.values:
            raise ValidationError({"level": "The level is 1, 2, 3 or 4."})
        escalation.level = level
    if owner is not None:
        _check_owner(escalation, owner)
        escalation.owner = owner
    if resolution is not None:
        escalation.resolution = resolution.strip()
        if len(escalation.resolution) > 5_000:
            raise ValidationError({"resolution": "Keep the resolution under 5,000 characters."})
    if status is not None:
        if status not in EscalationStatus.values:
            raise ValidationError({"status": f"Choose one of {', '.join(EscalationStatus.values)}."})
        if status == EscalationStatus.RESOLVED and escalation.status != EscalationStatus.RESOLVED:
            if not escalation.resolution:
                raise ValidationError({"resolution": RESOLUTION_REQUIRED})
            escalation.resolved_at, escalation.resolved_by = timezone.now(), actor
        elif status != EscalationStatus.RESOLVED:
            escalation.resolved_at, escalation.resolved_by = None, None
        escalation.status = status
    elif escalation.status == EscalationStatus.RESOLVED and not escalation.resolution:
        raise ValidationError({"resolution": RESOLUTION_REQUIRED})
    changes = audit.diff(before, audit.snapshot(escalation, fields))
    if not changes:
        return {}
    try:
        with transaction.atomic():
            escalation.save()
    except IntegrityError:
        raise ValidationError({"status": LIVE_TRIGGER_EXISTS}) from None
    action = "transition" if "status" in changes else "update"
    audit.record(actor=actor, action=action, obj=escalation, source=source, changes=changes)
    if escalation.owner_id and escalation.owner_id != previous_owner_id:
        notify(
            [escalation.owner], kind="cosell.escalation_assigned",
            title=f"You own an escalation on {escalation.opportunity.name}",
            body=escalation.reason, url=escalation_url(escalation), exclude=actor,
        )
    if "status" in changes and escalation.status == EscalationStatus.RESOLVED:
        notify(
            [escalation.raised_by, escalation.owner], kind="cosell.escalation_resolved",
            title=f"Escalation on {escalation.opportunity.name} resolved",
            body=escalation.resolution, url=escalation_url(escalation), exclude=actor,
        )
    return changes


def take_escalation(escalation: Escalation, *, actor, source: str = "web") -> dict:
    """The actor owns it from now on, and an open escalation is in progress."""
    status = EscalationStatus.IN_PROGRESS if escalation.status == EscalationStatus.OPEN else None
    return update_escalation(escalation, actor=actor, owner=actor, status=status, source=source)


def resolve_escalation(escalation: Escalation, *, resolution: str, actor, source: str = "web") -> dict:
    if escalation.status == EscalationStatus.RESOLVED:
        raise ValidationError(ALREADY_RESOLVED)
    if not (resolution or "").strip():
        raise ValidationError({"resolution": RESOLUTION_REQUIRED})
    return update_escalation(escalation, actor=actor, status=EscalationStatus.RESOLVED, resolution=resolution, source=source)


# --- rules -----------------------------------------------------------------------------------


@transaction.atomic
def update_rules(*, actor, source: str = "web", **values) -> dict:
    current = EngagementRules.objects.select_for_update().get(pk=EngagementRules.current().pk)
    small = values.get("small_deal_minor", current.small_deal_minor)
    strategic = values.get("strategic_minor", current.strategic_minor)
    problems = rules.check_thresholds(small, strategic)
    if problems:
        raise ValidationError({"strategic_minor": problems})
    return update_object(current, actor=actor, source=source, **values)
