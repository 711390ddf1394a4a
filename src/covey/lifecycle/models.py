"""Partner lifecycle: applications from the public page, the evaluation matrix and ideal partner
profile, each partner's journey facts, and joint business plans with mutual goals.

Design:
- An application creates a ``Partner`` in lifecycle "applied" and an ``Application`` with the answers
  as typed. The partner's lifecycle changes only through ``services.partner_change_lifecycle`` (the
  partner form and API call it too), which enforces "no activation without a countersigned
  agreement", stamps ``PartnerJourney.stage_since`` and starts the onboarding plan.
- ``PartnerJourney`` is one row per partner with the dates other features read: when the current
  lifecycle state began (the pipeline's age), onboarding and activation dates, and the first
  registered and first won deal (kept up to date by the ``lifecycle.milestones`` job).
- Evaluation: admins define ``Criterion`` rows (weight, scale). Opening an ``EvaluationRound`` for a
  candidate freezes the active criteria, weights and scales into the round (``criteria`` JSON), so
  later edits never rewrite history; each evaluator files one ``Scorecard`` with a ``Score`` and note
  per criterion. The math is ``covey.lifecycle.scoring`` (pure); the round caches its total.
- ``IdealProfile`` is one row (id 1) of thresholds; ``scoring.shortfalls`` says where a candidate misses.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.ids import PublicIdField


def _visible_by_partner(qs, user, field: str = "partner_id"):
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_vendor:
        return qs
    membership = user.membership
    return qs.filter(**{field: membership.partner_id}) if membership else qs.none()


# --- applications ----------------------------------------------------------------------------


class ApplicationStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class ApplicationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ApplicationQuerySet:
        """Applications are the vendor's recruiting records; partner users never see them."""
        if not user.is_authenticated or not user.is_active or not user.is_vendor:
            return self.none()
        return self


class Application(models.Model):
    public_id = PublicIdField(prefix="apl")
    partner = models.OneToOneField("partners.Partner", on_delete=models.CASCADE, related_name="application")
    company_name = models.CharField(max_length=200)
    website = models.CharField(max_length=300)
    domain = models.CharField(max_length=253, db_index=True, help_text="The registrable domain of the website")
    types = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    segments = models.JSONField(default=list, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    capabilities = models.TextField(blank=True)
    motivation = models.TextField(blank=True)
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField(max_length=254)
    status = models.CharField(max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.RECEIVED)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision_note = models.CharField(max_length=1000, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"Application from {self.company_name}"


class ApplicationAttempt(models.Model):
    """One submission of the public form, per client address: the rate limit counts these.

    Kept in the database rather than Django's cache: the local-memory cache is per process, so with
    several server workers (``covey serve``) each would allow the limit again; the database is the one
    store every worker and machine shares, and Covey has no Redis.
    """

    ip_address = models.GenericIPAddressField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip_address", "at"])]

    def __str__(self) -> str:
        return f"{self.ip_address} at {self.at:%Y-%m-%d %H:%M}"


# --- the partner's journey -------------------------------------------------------------------


class PartnerJourneyQuerySet(models.QuerySet):
    def visible_to(self, user) -> PartnerJourneyQuerySet:
        return _visible_by_partner(self, user)


class PartnerJourney(models.Model):
    partner = models.OneToOneField("partners.Partner", on_delete=models.CASCADE, related_name="journey")
    stage_since = models.DateTimeField(default=timezone.now, help_text="When the current lifecycle state began")
    applied_on = models.DateField(null=True, blank=True)
    onboarding_started_on = models.DateField(null=True, blank=True)
    activated_on = models.DateField(null=True, blank=True)
    first_registration_on = models.DateField(null=True, blank=True, help_text="First deal registration not turned down")
    first_won_on = models.DateField(null=True, blank=True, help_text="Close date of the first won deal with the partner")
    milestones_checked_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = PartnerJourneyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Journey of {self.partner}"

    @property
    def start_on(self):
        """Where "time to first deal" counts from: activation start (onboarding), else when it joined."""
        return self.onboarding_started_on or self.activated_on or timezone.localtime(self.partner.created_at).date()

    def days_to(self, day) -> int | None:
        return None if day is None else max((day - self.start_on).days, 0)

    @property
    def days_to_first_registration(self) -> int | None:
        return self.days_to(self.first_registration_on)

    @property
    def days_to_first_win(self) -> int | None:
        return self.days_to(self.first_won_on)


# --- evaluation ------------------------------------------------------------------------------


class ScaleKind(models.TextChoices):
    NUMERIC = "numeric", "1 to 5"
    LEVELS = "levels", "High / Medium / Low"


class CriterionQuerySet(models.QuerySet):
    def visible_to(self, user) -> CriterionQuerySet:
        if not user.is_authenticated or not user.is_active or not user.is_vendor:
            return self.none()
        return self


class Criterion(models.Model):
    public_id = PublicIdField(prefix="crt")
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1.00"))
    scale = models.CharField(max_length=10, choices=ScaleKind.choices, default=ScaleKind.NUMERIC)
    high_value = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("5"))
    medium_value = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("3"))
    low_value = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    objects = CriterionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        verbose_name_plural = "criteria"
        constraints = [models.CheckConstraint(condition=Q(weight__gte=0), name="criterion_weight_not_negative")]

    def __str__(self) -> str:
        return self.name

    def frozen(self) -> dict:
        """What a round keeps of this criterion (see ``EvaluationRound.criteria``)."""
        if self.scale == ScaleKind.LEVELS:
            levels = {"high": str(self.high_value), "medium": str(self.medium_value), "low": str(self.low_value)}
            low = min(self.high_value, self.medium_value, self.low_value)
            high = max(self.high_value, self.medium_value, self.low_value)
        else:
            levels, low, high = {}, Decimal(1), Decimal(5)
        return {
            "code": self.code, "name": self.name, "weight": str(self.weight), "scale": self.scale,
            "low": str(low), "high": str(high), "levels": levels,
        }


class RoundQuerySet(models.QuerySet):
    def visible_to(self, user) -> RoundQuerySet:
        """Scores are the vendor's internal judgement: partner users never see them."""
        if not user.is_authenticated or not user.is_active or not user.is_vendor:
            return self.none()
        return self


class EvaluationRound(models.Model):
    public_id = PublicIdField(prefix="evr")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="evaluation_rounds")
    name = models.CharField(max_length=120)
    criteria = models.JSONField(default=list, help_text="The criteria, weights and scales when the round opened")
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    total = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True, help_text="0–10, from the scorecards")
    evaluator_count = models.PositiveSmallIntegerField(default=0)

    objects = RoundQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One open round per partner: scores always go to an unambiguous place.
            models.UniqueConstraint(fields=["partner"], condition=Q(closed_at__isnull=True), name="evaluation_one_open_round"),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.partner}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Scorecard(models.Model):
    public_id = PublicIdField(prefix="evs")
    round = models.ForeignKey(EvaluationRound, on_delete=models.CASCADE, related_name="scorecards")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [models.UniqueConstraint(fields=["round", "evaluator"], name="scorecard_once_per_evaluator")]

    def __str__(self) -> str:
        return f"{self.evaluator} on {self.round}"


class Score(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="scores")
    criterion_code = models.SlugField(max_length=40)
    value = models.DecimalField(max_digits=5, decimal_places=2)
    level = models.CharField(max_length=10, blank=True, help_text="high/medium/low for a levels scale")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "criterion_code"], name="score_once_per_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion_code}: {self.value}"


class IdealProfile(models.Model):
    """The ideal partner profile: one row (id 1), read with ``current()``."""

    min_total = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    criteria_minimums = models.JSONField(default=dict, blank=True, help_text="{criterion code: minimum average}")
    min_employees = models.PositiveIntegerField(null=True, blank=True)
    regions = models.JSONField(default=list, blank=True)
    types = models.JSONField(default=list, blank=True)
    segments = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ideal partner profile"

    def __str__(self) -> str:
        return "Ideal partner profile"

    @classmethod
    def current(cls) -> IdealProfile:
        return cls.objects.filter(pk=1).first() or cls.objects.get_or_create(pk=1)[0]


# --- joint business plans --------------------------------------------------------------------


class GoalMetric(models.TextChoices):
    REGISTERED_DEALS = "registered_deals", "Registered deals"
    WON_DEALS = "won_deals", "Won deals"
    CERTIFIED_PEOPLE = "certified_people", "Certified people"


class BusinessPlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> BusinessPlanQuerySet:
        return _visible_by_partner(self, user)


class BusinessPlan(models.Model):
    public_id = PublicIdField(prefix="jbp")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="business_plans")
    title = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField()
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = BusinessPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="business_plan_dates_ordered")]

    def __str__(self) -> str:
        return self.title


class BusinessGoal(models.Model):
    public_id = PublicIdField(prefix="jbg")
    plan = models.ForeignKey(BusinessPlan, on_delete=models.CASCADE, related_name="goals")
    metric = models.CharField(max_length=20, choices=GoalMetric.choices)
    target = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(target__gte=1), name="business_goal_target_positive")]

    def __str__(self) -> str:
        return f"{self.target} {self.get_metric_display().lower()}"
