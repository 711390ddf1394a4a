"""Partner lifecycle workflows: applications, lifecycle changes, evaluation, onboarding and launch
plans, joint business plans and the journey facts.

``partner_change_lifecycle`` is the one place a partner's lifecycle changes (the partner form and
API, approvals and the demo all come through it). It refuses "active" without a countersigned
agreement, stamps when the new state began and, on the way into onboarding, applies the onboarding
plan. Errors are ``ValidationError`` with messages for the person who caused them; permission checks
are the caller's (``covey.core.access.can_manage_lifecycle`` and friends).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.urls import reverse
from django.utils import timezone

from covey.core import audit
from covey.core.access import PARTNER_CREATORS
from covey.core.models import StaffRole, User
from covey.core.normalise import normalise_domain
from covey.core.notify import notify
from covey.core.validators import clean_text
from covey.core.vocab import Region, Segment
from covey.lifecycle import scoring
from covey.lifecycle.models import (
    Application,
    ApplicationAttempt,
    ApplicationStatus,
    BusinessGoal,
    BusinessPlan,
    Criterion,
    EvaluationRound,
    GoalMetric,
    IdealProfile,
    PartnerJourney,
    ScaleKind,
    Score,
    Scorecard,
)
from covey.partners.models import Lifecycle, Partner, PartnerType

log = logging.getLogger(__name__)

# --- limits and messages ---------------------------------------------------------------------

APPLICATIONS_PER_HOUR = 5
LIMITS = {"company_name": 200, "website": 300, "contact_name": 200, "contact_email": 254,
          "capabilities": 5000, "motivation": 5000}
MAX_EMPLOYEES = 10_000_000

COMPANY_REQUIRED = "Enter your company's name."
WEBSITE_REQUIRED = "Enter your company's website."
WEBSITE_INVALID = "Enter your company's website, such as https://www.example.com."
CONTACT_REQUIRED = "Enter the name of the person we should talk to."
EMAIL_INVALID = "Enter a valid e-mail address."
TYPES_REQUIRED = "Choose at least one way you would like to partner with us."
REGIONS_REQUIRED = "Choose at least one region you work in."
EMPLOYEES_INVALID = f"Give the number of employees as a whole number from 1 to {MAX_EMPLOYEES:,}."
ALREADY_PARTNER = ("A company with the web domain {domain} is already one of our partners or has already applied. "
                   "If you work there, ask your partner manager or your company's partner admin for access.")
RATE_LIMITED = "Too many applications were sent from your network in the last hour. Please try again later."
NO_AGREEMENT = "{partner} cannot become active before its partner agreement is countersigned."
UNKNOWN_STATE = "Choose one of the lifecycle states."
NOT_RECEIVED = "This application was already decided."
DECLINE_REASON = "Say why the application is declined; the applicant reads it."
NO_ONBOARDING_TEMPLATE = "There is no active onboarding plan template; an admin can add one under Plans → Templates."
OPEN_ROUND_EXISTS = "An evaluation round is already open for {partner}; close it before starting another."
ROUND_CLOSED = "This evaluation round is closed; open a new round to score again."
NO_CRITERIA = "There are no active evaluation criteria; an admin adds them under Evaluation → Criteria."
MISSING_SCORE = "Score every criterion (missing: {names})."
LEVEL_INVALID = "{criterion}: choose High, Medium or Low."
SCORE_INVALID = "{criterion}: give a number."
NOTE_MAX = 2000
WEIGHT_MAX = Decimal("1000")
LEVEL_VALUE_MAX = Decimal("100")
GOAL_TARGET_MAX = 100_000
PLAN_YEARS_MAX = 5


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def journey_of(partner: Partner, *, now: datetime | None = None) -> PartnerJourney:
    journey = PartnerJourney.objects.filter(partner=partner).first()
    if journey is None:
        try:
            with transaction.atomic():
                journey = PartnerJourney.objects.create(partner=partner, stage_since=partner.created_at)
        except IntegrityError:  # made by someone else a moment ago
            journey = PartnerJourney.objects.get(partner=partner)
    return journey


def _vendor_reviewers(partner: Partner) -> list[User]:
    if partner.owner_id and partner.owner.is_active:
        return [partner.owner]
    return list(User.objects.filter(staff_role__in=list(PARTNER_CREATORS), is_active=True))


def candidate_url(partner: Partner) -> str:
    return reverse("evaluation_candidate", kwargs={"public_id": partner.public_id})


def journey_url(partner: Partner) -> str:
    return reverse("partner_journey", kwargs={"public_id": partner.public_id})


# --- lifecycle -------------------------------------------------------------------------------


@transaction.atomic
def partner_change_lifecycle(*, partner: Partner, to: str, actor, source: str = "web", now: datetime | None = None,
                             note: str = "") -> bool:
    """Move ``partner`` to lifecycle ``to``. Returns False when it already was there."""
    from covey.agreements.models import Agreement

    now = _now(now)
    if to not in Lifecycle.values:
        raise ValidationError({"lifecycle": UNKNOWN_STATE})
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    before = partner.lifecycle
    if before == to:
        return False
    if to == Lifecycle.ACTIVE and not Agreement.objects.countersigned_for(partner).exists():
        raise ValidationError({"lifecycle": NO_AGREEMENT.format(partner=partner)})
    partner.lifecycle = to
    partner.save(update_fields=["lifecycle", "updated_at"])
    journey = journey_of(partner)
    journey.stage_since = now
    today = timezone.localdate(now)
    fields = ["stage_since"]
    if to == Lifecycle.APPLIED and journey.applied_on is None:
        journey.applied_on, fields = today, [*fields, "applied_on"]
    if to == Lifecycle.ONBOARDING and journey.onboarding_started_on is None:
        journey.onboarding_started_on, fields = today, [*fields, "onboarding_started_on"]
    if to == Lifecycle.ACTIVE and journey.activated_on is None:
        journey.activated_on, fields = today, [*fields, "activated_on"]
    journey.save(update_fields=fields)
    changes = {"lifecycle": [before, to], **({"note": [None, note]} if note else {})}
    audit.record(actor=actor, action="transition", obj=partner, source=source, changes=changes)
    if to == Lifecycle.ONBOARDING:
        onboarding_plan_start(partner=partner, actor=actor, start=today, source=source)
    if to == Lifecycle.ACTIVE:
        admins = [m.user for m in partner.memberships.filter(role="admin").select_related("user")]
        notify(admins, kind="partner.activated", exclude=actor, title=f"Welcome aboard: {partner} is an active partner",
               body=f"{partner} is now an active partner. Your onboarding plan and resources are in the portal.",
               url=journey_url(partner))
    return True


def onboarding_template():
    from covey.lifecycle.playbooks import ONBOARDING_NAME
    from covey.plans.models import PlanKind, PlanTemplate

    active = PlanTemplate.objects.filter(kind=PlanKind.ONBOARDING, is_active=True)
    return active.filter(name=ONBOARDING_NAME).first() or active.order_by("name").first()


def onboarding_plan_start(*, partner: Partner, actor, start: date, source: str = "web"):
    """Apply the onboarding template to ``partner`` unless it already has an onboarding plan."""
    from covey.plans.models import Plan, PlanKind
    from covey.plans.services import apply_template

    if Plan.objects.filter(partner=partner, kind=PlanKind.ONBOARDING).exists():
        return None
    template = onboarding_template()
    if template is None:
        log.warning("no onboarding template: %s moved to onboarding without a plan", partner)
        return None
    admin = partner.memberships.filter(role="admin", user__is_active=True).select_related("user").first()
    vendor = partner.owner if partner.owner_id and partner.owner.is_active else (actor if actor is not None and actor.is_vendor else None)
    return apply_template(
        template, partner=partner, start=start, actor=actor, source=source, name=f"{partner.name} · onboarding",
        partner_assignee=admin.user if admin else None, vendor_assignee=vendor,
    )


def launch_plan_start(*, partner: Partner, template, start: date, actor, source: str = "web"):
    from covey.plans.models import PlanKind
    from covey.plans.services import apply_template

    if template.kind != PlanKind.LAUNCH:
        raise ValidationError({"template": "Choose a launch plan template."})
    vendor = actor if actor is not None and actor.is_vendor else None
    return apply_template(template, partner=partner, start=start, actor=actor, source=source, vendor_assignee=vendor)


# --- applications ----------------------------------------------------------------------------


@dataclass
class ApplicationInput:
    """What the public form (or a test) sends; checked by ``clean_application``."""

    company_name: str
    website: str
    contact_name: str
    contact_email: str
    types: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    employees: int | None = None
    capabilities: str = ""
    motivation: str = ""


def _website_url(text: str) -> str:
    text = text.strip()
    return text if "://" in text else f"https://{text}"


def clean_application(answers: ApplicationInput) -> tuple[str, str]:
    """Check the answers; return (registrable domain, website URL) or raise field errors."""
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        text = getattr(answers, name) or ""
        if "\x00" in text or len(text) > limit:
            errors[name] = f"At most {limit:,} characters, without NUL characters."
    if "company_name" not in errors and not answers.company_name.strip():
        errors["company_name"] = COMPANY_REQUIRED
    domain, url = "", ""
    if "website" not in errors:
        if not answers.website.strip():
            errors["website"] = WEBSITE_REQUIRED
        else:
            url = _website_url(answers.website)
            domain = normalise_domain(url)
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                domain = ""
            if not domain:
                errors["website"] = WEBSITE_INVALID
    if "contact_name" not in errors and not answers.contact_name.strip():
        errors["contact_name"] = CONTACT_REQUIRED
    if "contact_email" not in errors:
        try:
            validate_email(answers.contact_email.strip())
        except ValidationError:
            errors["contact_email"] = EMAIL_INVALID
    if not answers.types:
        errors["types"] = TYPES_REQUIRED
    elif any(t not in PartnerType.values for t in answers.types):
        errors["types"] = "Choose among the listed kinds of partnership."
    if not answers.regions:
        errors["regions"] = REGIONS_REQUIRED
    elif any(r not in Region.values for r in answers.regions):
        errors["regions"] = "Choose among the listed regions."
    if any(s not in Segment.values for s in answers.segments):
        errors["segments"] = "Choose among the listed customer segments."
    if answers.employees is not None and not (isinstance(answers.employees, int) and 1 <= answers.employees <= MAX_EMPLOYEES):
        errors["employees"] = EMPLOYEES_INVALID
    if errors:
        raise ValidationError(errors)
    return domain, url


def existing_partner_for(domain: str) -> Partner | None:
    """A partner (or applicant not declined) whose domain or website has this registrable domain."""
    if not domain:
        return None
    candidates = Partner.objects.exclude(
        lifecycle=Lifecycle.TERMINATED, application__status=ApplicationStatus.DECLINED,
    ).filter(
        Q(domain__iexact=domain) | Q(domain__iendswith=f".{domain}") | Q(website__icontains=domain)
        | Q(application__domain=domain)
    ).order_by("id")[:50]
    for partner in candidates:
        if domain in (normalise_domain(partner.domain), normalise_domain(partner.website)):
            return partner
        application = getattr(partner, "application", None)
        if application is not None and application.domain == domain:
            return partner
    return None


def client_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def application_attempt(*, ip: str | None, now: datetime | None = None) -> bool:
    """Count one submission from ``ip``; False when it is over the hourly limit (then nothing is stored).

    Runs in its own transaction before the application is checked, so invalid submissions count too.
    """
    if ip is None:
        return True
    now = _now(now)
    with transaction.atomic():
        recent = ApplicationAttempt.objects.filter(ip_address=ip, at__gt=now - timedelta(hours=1)).count()
        if recent >= APPLICATIONS_PER_HOUR:
            return False
        ApplicationAttempt.objects.create(ip_address=ip, at=now)
    return True


@transaction.atomic
def application_submit(*, answers: ApplicationInput, ip: str | None = None, user_agent: str = "",
                       now: datetime | None = None) -> Application:
    """Store an application: a partner in lifecycle "applied" and the answers; confirm by e-mail."""
    from covey.partners.services import partner_create

    now = _now(now)
    domain, url = clean_application(answers)
    if existing_partner_for(domain) is not None:
        raise ValidationError({"website": ALREADY_PARTNER.format(domain=domain)})
    partner = partner_create(
        actor=None, source="public", name=answers.company_name.strip(), website=url[:300], domain=domain,
        region=answers.regions[0], employees=answers.employees, types=answers.types, segments=answers.segments,
    )
    application = Application.objects.create(
        partner=partner, company_name=partner.name, website=url[:300], domain=domain,
        types=sorted(set(answers.types)), regions=sorted(set(answers.regions)), segments=sorted(set(answers.segments)),
        employees=answers.employees, capabilities=answers.capabilities.strip(), motivation=answers.motivation.strip(),
        contact_name=answers.contact_name.strip(), contact_email=answers.contact_email.strip().lower(),
        ip_address=ip, user_agent=(user_agent or "").replace("\x00", "")[:400], submitted_at=now,
    )
    audit.record(actor=None, action="create", obj=application, source="public", changes={
        "company": [None, partner.name], "domain": [None, domain], "contact": [None, application.contact_email],
    })
    partner_change_lifecycle(partner=partner, to=Lifecycle.APPLIED, actor=None, source="public", now=now)
    notify(
        _vendor_reviewers(partner), kind="application.received",
        title=f"New partner application: {partner.name}",
        body=f"{partner.name} ({domain}) applied to become a partner: {', '.join(application.types)}.",
        url=candidate_url(partner),
    )
    _email_applicant_on_commit(application, kind="received")
    return application


def _email_applicant_on_commit(application: Application, *, kind: str, note: str = "") -> None:
    from covey.lifecycle.tasks import email_applicant

    transaction.on_commit(lambda: email_applicant.enqueue(application.pk, kind, note))


@transaction.atomic
def application_approve(*, application: Application, actor, agreement_template=None, source: str = "web",
                        now: datetime | None = None) -> Application:
    """Accept the applicant: its contact becomes the partner admin (invited by e-mail), the agreement is
    issued (when a template is given) and the partner moves to onboarding with its plan."""
    from covey.agreements.services import agreement_issue
    from covey.partners.models import Membership
    from covey.partners.services import membership_add

    now = _now(now)
    application = Application.objects.select_for_update().select_related("partner").get(pk=application.pk)
    if application.status != ApplicationStatus.RECEIVED:
        raise ValidationError(NOT_RECEIVED)
    partner = application.partner
    if partner.owner_id is None and actor is not None and actor.staff_role == StaffRole.PARTNER_MANAGER:
        Partner.objects.filter(pk=partner.pk).update(owner=actor)  # the manager who approves looks after it
        partner.owner = actor
        audit.record(actor=actor, action="update", obj=partner, source=source, changes={"owner": [None, str(actor)]})
    existing = User.objects.filter(email=application.contact_email).first()
    if existing is None or not Membership.objects.filter(user=existing, partner=partner).exists():
        membership_add(partner=partner, email=application.contact_email, full_name=application.contact_name,
                       role="admin", actor=actor)
    application.status = ApplicationStatus.APPROVED
    application.decided_at, application.decided_by = now, actor
    application.save(update_fields=["status", "decided_at", "decided_by"])
    audit.record(actor=actor, action="transition", obj=application, source=source,
                 changes={"status": [ApplicationStatus.RECEIVED, ApplicationStatus.APPROVED]})
    if agreement_template is not None:
        agreement_issue(partner=partner, template=agreement_template, actor=actor, source=source)
    partner_change_lifecycle(partner=partner, to=Lifecycle.ONBOARDING, actor=actor, source=source, now=now)
    return application


@transaction.atomic
def application_decline(*, application: Application, actor, reason: str, source: str = "web",
                        now: datetime | None = None) -> Application:
    reason = clean_text(reason, field="reason", limit=1000, required=DECLINE_REASON)
    now = _now(now)
    application = Application.objects.select_for_update().select_related("partner").get(pk=application.pk)
    if application.status != ApplicationStatus.RECEIVED:
        raise ValidationError(NOT_RECEIVED)
    application.status = ApplicationStatus.DECLINED
    application.decided_at, application.decided_by, application.decision_note = now, actor, reason
    application.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    audit.record(actor=actor, action="transition", obj=application, source=source,
                 changes={"status": [ApplicationStatus.RECEIVED, ApplicationStatus.DECLINED], "reason": [None, reason]})
    partner_change_lifecycle(partner=application.partner, to=Lifecycle.TERMINATED, actor=actor, source=source, now=now,
                             note="Application declined")
    _email_applicant_on_commit(application, kind="declined", note=reason)
    return application


# --- evaluation criteria and the ideal profile ------------------------------------------------


def _decimal(value, *, field: str, low: Decimal, high: Decimal, message: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: message}) from None
    if not number.is_finite() or not low <= number <= high or number != number.quantize(Decimal("0.01")):
        raise ValidationError({field: message})
    return number


def _check_active_weights(exclude_pk: int | None = None, extra: Decimal | None = None) -> None:
    weights = list(Criterion.objects.filter(is_active=True).exclude(pk=exclude_pk).values_list("weight", flat=True))
    if extra is not None:
        weights.append(extra)
    try:
        scoring.check_weights(weights)
    except scoring.ScoringError as exc:
        raise ValidationError({"weight": str(exc)}) from None


CRITERION_FIELDS = ("name", "description", "weight", "scale", "high_value", "medium_value", "low_value", "order", "is_active")


def _clean_criterion(values: dict) -> dict:
    out = dict(values)
    if "name" in out:
        out["name"] = clean_text(out["name"], field="name", limit=120, required="Name the criterion.")
    if "description" in out:
        out["description"] = clean_text(out["description"], field="description", limit=500)
    if "weight" in out:
        out["weight"] = _decimal(out["weight"], field="weight", low=Decimal(0), high=WEIGHT_MAX,
                                 message=f"The weight is a number from 0 to {WEIGHT_MAX} with at most two decimals.")
    for name in ("high_value", "medium_value", "low_value"):
        if name in out:
            out[name] = _decimal(out[name], field=name, low=Decimal(0), high=LEVEL_VALUE_MAX,
                                 message=f"Give a number from 0 to {LEVEL_VALUE_MAX} with at most two decimals.")
    if "scale" in out and out["scale"] not in ScaleKind.values:
        raise ValidationError({"scale": "Choose 1 to 5 or High / Medium / Low."})
    return out


def _check_levels(criterion: Criterion) -> None:
    if criterion.scale == ScaleKind.LEVELS and not (criterion.high_value > criterion.medium_value > criterion.low_value):
        raise ValidationError({"high_value": "High must be worth more than Medium, and Medium more than Low."})


@transaction.atomic
def criterion_create(*, actor, code: str, source: str = "web", **values) -> Criterion:
    from django.utils.text import slugify

    values = _clean_criterion({k: v for k, v in values.items() if k in CRITERION_FIELDS})
    code = slugify(code or values.get("name", ""))[:40].replace("-", "_")
    if not code:
        raise ValidationError({"code": "Give the criterion a short code, such as customer_fit."})
    if Criterion.objects.filter(code=code).exists():
        raise ValidationError({"code": f"A criterion with the code {code} exists already."})
    criterion = Criterion(code=code, **values)
    _check_levels(criterion)
    if criterion.is_active:
        _check_active_weights(extra=criterion.weight)
    criterion.save()
    audit.record(actor=actor, action="create", obj=criterion, source=source,
                 changes={"name": [None, criterion.name], "weight": [None, str(criterion.weight)], "scale": [None, criterion.scale]})
    return criterion


@transaction.atomic
def criterion_update(*, criterion: Criterion, actor, source: str = "web", **values) -> dict:
    values = _clean_criterion({k: v for k, v in values.items() if k in CRITERION_FIELDS})
    before = audit.snapshot(criterion, list(values))
    for key, value in values.items():
        setattr(criterion, key, value)
    _check_levels(criterion)
    _check_active_weights(exclude_pk=criterion.pk, extra=criterion.weight if criterion.is_active else None)
    changes = audit.diff(before, audit.snapshot(criterion, list(values)))
    if changes:
        criterion.save(update_fields=list(changes))
        audit.record(actor=actor, action="update", obj=criterion, source=source, changes=changes)
    return changes


@transaction.atomic
def ideal_profile_update(*, actor, source: str = "web", min_total=None, criteria_minimums: dict | None = None,
                         min_employees: int | None = None, regions=(), types=(), segments=()) -> dict:
    profile = IdealProfile.objects.select_for_update().get_or_create(pk=1)[0]
    values: dict = {
        "min_total": None if min_total in (None, "") else _decimal(
            min_total, field="min_total", low=Decimal(0), high=Decimal(10),
            message="The minimum total is a number from 0 to 10 with at most two decimals."),
        "min_employees": min_employees,
        "regions": sorted(set(regions)), "types": sorted(set(types)), "segments": sorted(set(segments)),
    }
    if min_employees is not None and not (isinstance(min_employees, int) and 0 <= min_employees <= MAX_EMPLOYEES):
        raise ValidationError({"min_employees": EMPLOYEES_INVALID})
    for name, vocabulary in (("regions", Region.values), ("types", PartnerType.values), ("segments", Segment.values)):
        if any(v not in vocabulary for v in values[name]):
            raise ValidationError({name: "Choose among the listed values."})
    known = {c.code: c for c in Criterion.objects.all()}
    minimums = {}
    for code, minimum in (criteria_minimums or {}).items():
        if minimum in (None, ""):
            continue
        if code not in known:
            raise ValidationError({"criteria_minimums": f"There is no criterion with the code {code}."})
        high = Decimal(known[code].frozen()["high"])
        minimums[code] = str(_decimal(minimum, field=f"minimum_{code}", low=Decimal(0), high=high,
                                      message=f"{known[code].name}: give a minimum from 0 to {high}."))
    values["criteria_minimums"] = minimums
    before = audit.snapshot(profile, list(values))
    for key, value in values.items():
        setattr(profile, key, value)
    changes = audit.diff(before, audit.snapshot(profile, list(values)))
    if changes:
        profile.save()
        audit.record(actor=actor, action="update", obj=profile, source=source, changes=changes)
    return changes


# --- evaluation rounds and scores -------------------------------------------------------------


def frozen_criteria(round_: EvaluationRound) -> list[scoring.Criterion]:
    return [
        scoring.Criterion(code=c["code"], name=c["name"], weight=Decimal(c["weight"]), low=Decimal(c["low"]), high=Decimal(c["high"]))
        for c in round_.criteria
    ]


def round_result(round_: EvaluationRound, scorecards=None) -> scoring.Result | None:
    cards = scorecards if scorecards is not None else list(round_.scorecards.prefetch_related("scores"))
    return scoring.weighted_total(
        frozen_criteria(round_), [{s.criterion_code: s.value for s in card.scores.all()} for card in cards],
    )


@transaction.atomic
def round_open(*, partner: Partner, actor, name: str = "", source: str = "web", now: datetime | None = None) -> EvaluationRound:
    """Open an evaluation round for ``partner`` with today's criteria frozen into it; an applicant
    moves to "evaluating"."""
    now = _now(now)
    Partner.objects.select_for_update().filter(pk=partner.pk).first()
    if EvaluationRound.objects.filter(partner=partner, closed_at__isnull=True).exists():
        raise ValidationError(OPEN_ROUND_EXISTS.format(partner=partner))
    criteria = list(Criterion.objects.filter(is_active=True).order_by("order", "id"))
    if not criteria:
        raise ValidationError(NO_CRITERIA)
    try:
        scoring.check_weights(c.weight for c in criteria)
    except scoring.ScoringError as exc:
        raise ValidationError(str(exc)) from None
    earlier = EvaluationRound.objects.filter(partner=partner).count()
    default_name = "Application review" if partner.lifecycle in (Lifecycle.APPLIED, Lifecycle.EVALUATING, Lifecycle.PROSPECT) and not earlier \
        else f"Re-evaluation {timezone.localdate(now):%Y-%m}"
    name = clean_text(name, field="name", limit=120) or default_name
    round_ = EvaluationRound.objects.create(
        partner=partner, name=name, criteria=[c.frozen() for c in criteria], opened_at=now,
        opened_by=actor if actor is not None and actor.pk else None,
    )
    audit.record(actor=actor, action="create", obj=round_, source=source,
                 changes={"partner": [None, str(partner)], "criteria": [None, [c.code for c in criteria]]})
    if partner.lifecycle in (Lifecycle.PROSPECT, Lifecycle.APPLIED):
        partner_change_lifecycle(partner=partner, to=Lifecycle.EVALUATING, actor=actor, source=source, now=now)
    return round_


def _score_value(spec: dict, raw_value, level: str | None) -> tuple[Decimal, str]:
    if spec["scale"] == ScaleKind.LEVELS:
        level = (level or "").strip().lower()
        if level not in spec["levels"]:
            raise ValidationError({f"score_{spec['code']}": LEVEL_INVALID.format(criterion=spec["name"])})
        return Decimal(spec["levels"][level]), level
    try:
        value = Decimal(str(raw_value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({f"score_{spec['code']}": SCORE_INVALID.format(criterion=spec["name"])}) from None
    if not value.is_finite():
        raise ValidationError({f"score_{spec['code']}": SCORE_INVALID.format(criterion=spec["name"])})
    return value, ""


@dataclass
class ScoreInput:
    value: object = None  # a number on a numeric scale
    level: str | None = None  # high/medium/low on a levels scale
    note: str = ""


@transaction.atomic
def scorecard_submit(*, round_: EvaluationRound, evaluator, scores: dict[str, ScoreInput], source: str = "web",
                     now: datetime | None = None) -> Scorecard:
    """File (or replace) ``evaluator``'s scores in an open round: one score and note per criterion,
    each inside its scale. Recomputes the round's total."""
    now = _now(now)
    round_ = EvaluationRound.objects.select_for_update().get(pk=round_.pk)
    if not round_.is_open:
        raise ValidationError(ROUND_CLOSED)
    specs = round_.criteria
    missing = [s["name"] for s in specs if s["code"] not in scores]
    if missing:
        raise ValidationError(MISSING_SCORE.format(names=", ".join(missing)))
    errors: dict[str, str] = {}
    rows = []
    for spec in specs:
        given = scores[spec["code"]]
        try:
            value, level = _score_value(spec, given.value, given.level)
            scoring.check_score(
                scoring.Criterion(spec["code"], spec["name"], Decimal(spec["weight"]), Decimal(spec["low"]), Decimal(spec["high"])),
                value,
            )
            if value != value.quantize(Decimal("0.01")):
                raise scoring.ScoringError(f"{spec['name']}: use at most two decimals.")
            note = clean_text(given.note, field=f"note_{spec['code']}", limit=NOTE_MAX)
        except scoring.ScoringError as exc:
            errors[f"score_{spec['code']}"] = str(exc)
            continue
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
            continue
        rows.append((spec["code"], value, level, note))
    if errors:
        raise ValidationError(errors)
    card, created = Scorecard.objects.get_or_create(round=round_, evaluator=evaluator, defaults={"submitted_at": now})
    if not created:
        card.submitted_at = now
        card.save(update_fields=["submitted_at"])
        card.scores.all().delete()
    Score.objects.bulk_create([Score(scorecard=card, criterion_code=c, value=v, level=lv, note=n) for c, v, lv, n in rows])
    result = round_result(round_)
    round_.total = result.total if result else None
    round_.evaluator_count = result.evaluators if result else 0
    round_.save(update_fields=["total", "evaluator_count"])
    audit.record(actor=evaluator, action="create" if created else "update", obj=round_, source=source, changes={
        "scorecard": [None, str(evaluator)], "scores": [None, {c: str(v) for c, v, _, _ in rows}],
        "total": [None, str(round_.total)],
    })
    return card


@transaction.atomic
def round_close(*, round_: EvaluationRound, actor, source: str = "web", now: datetime | None = None) -> bool:
    changed = EvaluationRound.objects.filter(pk=round_.pk, closed_at__isnull=True).update(closed_at=_now(now))
    if changed:
        round_.refresh_from_db()
        audit.record(actor=actor, action="transition", obj=round_, source=source,
                     changes={"closed": [False, True], "total": [None, str(round_.total) if round_.total is not None else None]})
    return bool(changed)


# --- joint business plans --------------------------------------------------------------------


def _clean_plan(title: str, starts_on: date, ends_on: date, notes: str) -> tuple[str, str]:
    title = clean_text(title, field="title", limit=200, required="Give the plan a title.")
    notes = clean_text(notes, field="notes", limit=5000)
    if ends_on < starts_on:
        raise ValidationError({"ends_on": "The plan cannot end before it starts."})
    if ends_on > starts_on + timedelta(days=366 * PLAN_YEARS_MAX):
        raise ValidationError({"ends_on": f"A joint business plan covers at most {PLAN_YEARS_MAX} years."})
    return title, notes


@transaction.atomic
def business_plan_create(*, partner: Partner, actor, title: str, starts_on: date, ends_on: date, notes: str = "",
                         goals: list[tuple[str, int, str]] = (), source: str = "web") -> BusinessPlan:
    title, notes = _clean_plan(title, starts_on, ends_on, notes)
    plan = BusinessPlan.objects.create(partner=partner, title=title, starts_on=starts_on, ends_on=ends_on, notes=notes,
                                       created_by=actor if actor is not None and actor.pk else None)
    audit.record(actor=actor, action="create", obj=plan, source=source, changes={
        "partner": [None, str(partner)], "title": [None, title], "period": [None, f"{starts_on} – {ends_on}"],
    })
    for metric, target, note in goals:
        goal_add(plan=plan, actor=actor, metric=metric, target=target, note=note, source=source)
    return plan


@transaction.atomic
def business_plan_update(*, plan: BusinessPlan, actor, title: str, starts_on: date, ends_on: date, notes: str = "",
                         source: str = "web") -> dict:
    title, notes = _clean_plan(title, starts_on, ends_on, notes)
    values = {"title": title, "starts_on": starts_on, "ends_on": ends_on, "notes": notes}
    before = audit.snapshot(plan, list(values))
    for key, value in values.items():
        setattr(plan, key, value)
    changes = audit.diff(before, audit.snapshot(plan, list(values)))
    if changes:
        plan.save(update_fields=list(changes))
        audit.record(actor=actor, action="update", obj=plan, source=source, changes=changes)
    return changes


@transaction.atomic
def goal_add(*, plan: BusinessPlan, actor, metric: str, target: int, note: str = "", source: str = "web") -> BusinessGoal:
    if metric not in GoalMetric.values:
        raise ValidationError({"metric": "Choose what the goal counts."})
    if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= GOAL_TARGET_MAX:
        raise ValidationError({"target": f"The target is a whole number from 1 to {GOAL_TARGET_MAX:,}."})
    note = clean_text(note, field="note", limit=300)
    goal = BusinessGoal.objects.create(plan=plan, metric=metric, target=target, note=note)
    audit.record(actor=actor, action="update", obj=plan, source=source, changes={"goal": [None, str(goal)]})
    return goal


@transaction.atomic
def goal_remove(*, goal: BusinessGoal, actor, source: str = "web") -> None:
    audit.record(actor=actor, action="update", obj=goal.plan, source=source, changes={"goal": [str(goal), None]})
    goal.delete()


# --- journey facts ---------------------------------------------------------------------------


def refresh_milestones(*, partner_ids: list[int], now: datetime | None = None) -> int:
    """Bring these partners' first registered and first won deal dates up to date (set-based).

    Recomputed rather than only set once, so a registration rejected later or a win reopened in the
    CRM moves the date back where the data says. Returns how many journey rows changed.
    """
    from covey.crm.models import OpportunityPartner, Stage
    from covey.registrations.models import Registration, Status

    now = _now(now)
    ids = list(partner_ids)
    have = set(PartnerJourney.objects.filter(partner_id__in=ids).values_list("partner_id", flat=True))
    missing = Partner.objects.filter(pk__in=[i for i in ids if i not in have]).only("pk", "created_at")
    PartnerJourney.objects.bulk_create(
        [PartnerJourney(partner_id=p.pk, stage_since=p.created_at) for p in missing], ignore_conflicts=True,
    )
    registered = dict(
        Registration.objects.filter(partner_id__in=ids).exclude(status__in=[Status.REJECTED, Status.CONFLICT])
        .order_by().values("partner_id").annotate(first=Min("submitted_at")).values_list("partner_id", "first")
    )
    won = dict(
        OpportunityPartner.objects.filter(partner_id__in=ids, opportunity__stage=Stage.CLOSED_WON)
        .order_by().values("partner_id").annotate(first=Min("opportunity__close_date")).values_list("partner_id", "first")
    )
    changed = 0
    journeys = list(PartnerJourney.objects.filter(partner_id__in=ids))
    for journey in journeys:
        first_reg = registered.get(journey.partner_id)
        first_reg = timezone.localtime(first_reg).date() if first_reg else None
        first_won = won.get(journey.partner_id)
        if (journey.first_registration_on, journey.first_won_on) != (first_reg, first_won):
            journey.first_registration_on, journey.first_won_on = first_reg, first_won
            changed += 1
        journey.milestones_checked_at = now
    PartnerJourney.objects.bulk_update(journeys, ["first_registration_on", "first_won_on", "milestones_checked_at"], batch_size=500)
    return changed
