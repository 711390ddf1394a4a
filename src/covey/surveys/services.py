"""Writing campaigns and answers: create, send (now or on the open date), answer, remind, close.

Links: each invitation's e-mail carries ``/surveys/answer/<token>/``, the invitation's public id
signed with the site's secret (``django.core.signing``, its own salt). The token names one person's
invitation; it answers once (``Answer`` is one-to-one with the invitation), only while the campaign
is open and before its close date, and a signed-in user who is not the invitee cannot use it.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from covey.core import audit
from covey.core.bulk import insert_instances
from covey.core.models import StaffRole, User, VendorSettings
from covey.core.notify import compose, notify, written
from covey.core.validators import clean_text
from covey.partners.models import Lifecycle, Membership, Partner, PartnerType
from covey.surveys.models import DEFAULT_QUESTION, Answer, Campaign, CampaignStatus, Invitation

TOKEN_SALT = "covey.surveys.answer"
MANAGERS = (StaffRole.ADMIN, StaffRole.PARTNER_MANAGER)

NO_MANAGE = "Only admins and partner managers run partner surveys."
NOT_DRAFT = "This campaign has been sent already."
CLOSES_BEFORE_OPENING = "The close date must be on or after the open date."
CLOSES_IN_PAST = "The close date has passed: pick a later one before sending."
EMPTY_AUDIENCE = "Nobody is in this audience: no active partner user matches it."
NO_AUDIENCE = "Choose the audience: all partners, or some partners, partner types or tiers."
UNKNOWN_TYPE = "{value!r} is not a partner type."
UNKNOWN_TIER = "{value!r} is not a tier of any program."
BAD_SCORE = "Choose a score from 0 to 10."
ALREADY_ANSWERED = "You have already answered this survey. Thank you!"
CAMPAIGN_CLOSED = "This survey closed on {day:%-d %B %Y}; answers are no longer taken."
LINK_EXPIRED = "This survey link expired on {day:%-d %B %Y}, when the survey's answering period ended."
NOT_OPEN_YET = "This survey opens on {day:%-d %B %Y}."
NOT_CLOSABLE = "Only an open or scheduled campaign can be closed."


def can_manage(user) -> bool:
    return user.is_authenticated and user.staff_role in MANAGERS


def default_question() -> str:
    return DEFAULT_QUESTION.format(company=VendorSettings.current().company_name or "us")


@transaction.atomic
def campaign_create(*, actor: User, name: str, question: str = "", audience_all: bool = True,
                    partners: list[Partner] = (), partner_types: list[str] = (), tiers: list[str] = (),
                    opens_on: date, closes_on: date, remind_days_before: int = 3, source: str = "web") -> Campaign:
    from covey.analytics.metrics import tier_codes

    errors: dict[str, str] = {}
    name = clean_text(name, field="name", limit=120, required="Give the campaign a name.")
    question = clean_text(question, field="question", limit=300) or default_question()
    types = sorted({t for t in partner_types if t})
    tiers = sorted({t for t in tiers if t})
    for t in types:
        if t not in PartnerType.values:
            errors["partner_types"] = UNKNOWN_TYPE.format(value=t)
    known_tiers = set(tier_codes())
    for t in tiers:
        if t not in known_tiers:
            errors["tiers"] = UNKNOWN_TIER.format(value=t)
    if not audience_all and not (partners or types or tiers):
        errors["audience_all"] = NO_AUDIENCE
    if closes_on < opens_on:
        errors["closes_on"] = CLOSES_BEFORE_OPENING
    if not 0 <= remind_days_before <= 60:
        errors["remind_days_before"] = "Between 0 and 60 days."
    if errors:
        raise ValidationError(errors)
    campaign = Campaign.objects.create(
        name=name, question=question, audience_all=audience_all, audience_types=[] if audience_all else types,
        audience_tiers=[] if audience_all else tiers, opens_on=opens_on, closes_on=closes_on,
        remind_days_before=remind_days_before, created_by=actor)
    if not audience_all and partners:
        campaign.audience_partners.set(partners)
    audit.record(actor=actor, action="create", obj=campaign, source=source)
    return campaign


def audience(campaign: Campaign, day: date) -> list[Membership]:
    """The memberships (active users of partners not terminated) the campaign goes to on ``day``.
    Several criteria add up: a listed partner, or a partner of a listed type, or holding a listed tier."""
    from django.db.models import Q

    from covey.programs.models import Enrolment

    partners = Partner.objects.exclude(lifecycle=Lifecycle.TERMINATED)
    if not campaign.audience_all:
        chosen = Q(pk__in=campaign.audience_partners.values("pk"))
        if campaign.audience_types:
            chosen |= Q(types__code__in=campaign.audience_types)
        if campaign.audience_tiers:
            chosen |= Q(pk__in=Enrolment.objects.on(day).filter(tier_code__in=campaign.audience_tiers).values("partner_id"))
        partners = partners.filter(chosen)
    return list(Membership.objects.filter(partner__in=partners.distinct().values("pk"), user__is_active=True)
                .select_related("user", "partner").order_by("partner__name", "user__email"))


def token_for(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.public_id}, salt=TOKEN_SALT)


def link_for(invitation: Invitation) -> str:
    return f"{settings.SITE_URL}{reverse('survey_answer_link', kwargs={'token': token_for(invitation)})}"


def invitation_for_token(token: str) -> Invitation | None:
    try:
        data = signing.loads(token[:300], salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return (Invitation.objects.select_related("campaign", "user", "partner")
            .filter(public_id=str(data.get("i", ""))[:24]).first())


def _message(campaign: Campaign, invitation: Invitation, *, reminder: bool) -> tuple[str, str]:
    lead = "A reminder: we would value your answer." if reminder else "We would value your answer."
    title = f"{'Reminder: ' if reminder else ''}{campaign.name}"
    body = (f"{lead}\n\n{campaign.question}\n\nOne click from 0 to 10 and an optional comment, before "
            f"{campaign.closes_on:%-d %B %Y}:\n{link_for(invitation)}\n\nYour answer goes to {VendorSettings.current().company_name or 'the vendor'}'s "
            "partner team only; other partners, and your own colleagues, never see it.")
    return title, body


def _dispatch(campaign: Campaign, now: datetime) -> int:
    members = audience(campaign, timezone.localdate(now))
    invitations = [Invitation(campaign=campaign, user=m.user, partner=m.partner, sent_at=now) for m in members]
    insert_instances(invitations)
    notes = []
    url = reverse("survey_answer", kwargs={"public_id": campaign.public_id})
    for inv in invitations:
        title, body = _message(campaign, inv, reminder=False)
        notes += compose([inv.user], kind="survey.invitation", title=title, body=body, url=url)
    insert_instances(notes)
    written(notes)
    campaign.status, campaign.sent_at = CampaignStatus.OPEN, now
    campaign.save(update_fields=["status", "sent_at"])
    return len(invitations)


@transaction.atomic
def campaign_send(*, campaign: Campaign, actor: User, source: str = "web", now: datetime | None = None) -> Campaign:
    """Send a draft: now when its open date has come, else on that date (the sweep sends it)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(NOT_DRAFT)
    if campaign.closes_on < today:
        raise ValidationError({"closes_on": CLOSES_IN_PAST})
    if not audience(campaign, max(today, campaign.opens_on)):
        raise ValidationError(EMPTY_AUDIENCE)
    if campaign.opens_on > today:
        campaign.status = CampaignStatus.SCHEDULED
        campaign.save(update_fields=["status"])
        sent = 0
    else:
        sent = _dispatch(campaign, now)
    audit.record(actor=actor, action="update", obj=campaign, source=source,
                 changes={"status": ["draft", campaign.status], "invitations": sent})
    return campaign


def answer_problem(invitation: Invitation, today: date) -> str | None:
    """Why this invitation cannot be answered now, or None."""
    campaign = invitation.campaign
    if Answer.objects.filter(invitation=invitation).exists():
        return ALREADY_ANSWERED
    if campaign.status == CampaignStatus.CLOSED:
        return CAMPAIGN_CLOSED.format(day=timezone.localdate(campaign.closed_at) if campaign.closed_at else campaign.closes_on)
    if today > campaign.closes_on:
        return LINK_EXPIRED.format(day=campaign.closes_on)
    if today < campaign.opens_on or campaign.status != CampaignStatus.OPEN:
        return NOT_OPEN_YET.format(day=campaign.opens_on)
    return None


def _tiers_of(partner: Partner, day: date) -> list[str]:
    from covey.programs.models import Enrolment

    return sorted(set(Enrolment.objects.on(day).filter(partner=partner).values_list("tier_code", flat=True)))


@transaction.atomic
def answer_submit(*, invitation: Invitation, score, comment: str = "", via: str = "web",
                  now: datetime | None = None) -> Answer:
    now = now or timezone.now()
    today = timezone.localdate(now)
    invitation = Invitation.objects.select_for_update().select_related("campaign", "partner").get(pk=invitation.pk)
    problem = answer_problem(invitation, today)
    if problem:
        raise ValidationError(problem)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValidationError({"score": BAD_SCORE})
    comment = clean_text(comment, field="comment", limit=2000)
    partner = invitation.partner
    answer = Answer(invitation=invitation, campaign=invitation.campaign, partner=partner, score=score, comment=comment,
                    partner_types=sorted(partner.types.values_list("code", flat=True)),
                    tier_codes=_tiers_of(partner, today), answered_at=now, via=via)
    try:
        with transaction.atomic():
            answer.save()
    except IntegrityError:  # a second tab answered between our check and our insert
        raise ValidationError(ALREADY_ANSWERED) from None
    return answer


@transaction.atomic
def campaign_close(*, campaign: Campaign, actor: User | None, source: str = "web", now: datetime | None = None) -> Campaign:
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in (CampaignStatus.OPEN, CampaignStatus.SCHEDULED):
        raise ValidationError(NOT_CLOSABLE)
    before = campaign.status
    campaign.status, campaign.closed_at = CampaignStatus.CLOSED, now
    campaign.save(update_fields=["status", "closed_at"])
    audit.record(actor=actor, action="update", obj=campaign, source=source, changes={"status": [before, "closed"]})
    return campaign


# --- the sweep (``surveys.sweep``): send on the open date, remind once, close after the close date --------


def send_due(now: datetime) -> int:
    today = timezone.localdate(now)
    done = 0
    for pk in Campaign.objects.filter(status=CampaignStatus.SCHEDULED, opens_on__lte=today).values_list("pk", flat=True):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update(skip_locked=True).filter(pk=pk, status=CampaignStatus.SCHEDULED).first()
            if campaign is None:
                continue
            if campaign.closes_on < today:
                campaign.status, campaign.closed_at = CampaignStatus.CLOSED, now
                campaign.save(update_fields=["status", "closed_at"])
            else:
                _dispatch(campaign, now)
            done += 1
    return done


def remind_due(now: datetime) -> int:
    """One reminder per campaign, to everyone who has not answered, ``remind_days_before`` days before it closes."""
    from datetime import timedelta

    today = timezone.localdate(now)
    reminded = 0
    for campaign in Campaign.objects.filter(status=CampaignStatus.OPEN, reminded_at__isnull=True, closes_on__gte=today):
        if today < campaign.closes_on - timedelta(days=campaign.remind_days_before):
            continue
        with transaction.atomic():
            # the conditional update claims the reminder: a second worker's update matches nothing
            if not Campaign.objects.filter(pk=campaign.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            waiting = list(Invitation.objects.filter(campaign=campaign, answer__isnull=True).select_related("user"))
            for inv in waiting:
                title, body = _message(campaign, inv, reminder=True)
                notify([inv.user], kind="survey.reminder", title=title, body=body,
                       url=reverse("survey_answer", kwargs={"public_id": campaign.public_id}))
            Invitation.objects.filter(pk__in=[i.pk for i in waiting]).update(reminded_at=now)
            reminded += len(waiting)
    return reminded


def close_due(now: datetime) -> int:
    today = timezone.localdate(now)
    return Campaign.objects.filter(status=CampaignStatus.OPEN, closes_on__lt=today).update(
        status=CampaignStatus.CLOSED, closed_at=now)

