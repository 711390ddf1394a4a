"""Incentive programs: programs, their effective-dated versions (tiers and rules), enrolments, pilots.

Design:
- A ``Program`` is a name and a base currency. What it pays lives in ``ProgramVersion`` rows: the
  credit model, payout timing, ``Tier`` rows (rank, requirements, non-rate benefits) and ``Rule``
  rows (a kind plus JSON parameters validated by ``covey.programs.rules``).
- A version governs fiscal quarters from ``effective_from`` (always the first day of a quarter) until
  the next published version of the same program starts. A published version is *locked* once the
  first quarter it governs has begun: rules never change mid-quarter. A change is a new draft
  version, published from the next quarter on. Services refuse edits of locked versions and leave an
  audit record of the attempt.
- Pilots: a version marked ``pilot`` applies only to its ``pilot_partners``; everyone else stays on
  the general version for the same quarters. Rolling out publishes a general version with the
  pilot's content from the next quarter.
- ``Enrolment`` rows are the history of which tier a partner holds in a program: the current one has
  no ``ends_on``. Tier codes are stable across versions, so an enrolment survives a new version.
- Partner users see the programs they are enrolled in (published versions only); vendor staff see all.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField
from covey.core.validators import validate_currency


class CreditModel(models.TextChoices):
    ORIGINATION = "origination", "Origination (the source gets full credit, supporting partners an influence share)"
    SPLIT = "split", "Split (every partner on the deal gets full credit)"
    ROLE_BASED = "role_based", "Role-based (a fixed share per role, the shares always add up to the deal)"


class PayoutFrequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class ProgramQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProgramQuerySet:
        """Vendor staff see every program; a partner user those its partner has been enrolled in."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        return self.filter(pk__in=Enrolment.objects.filter(partner_id=membership.partner_id).values("program_id"))


class Program(models.Model):
    public_id = PublicIdField(prefix="prg")
    name = models.CharField(max_length=120, unique=True)
    summary = models.TextField(blank=True, help_text="One paragraph partners read at the top of the guide")
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency],
                                help_text="Tier requirements and reports are in this currency")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> VersionQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        programs = Program.objects.visible_to(user)
        qs = self.filter(program__in=programs)
        return qs if user.is_vendor else qs.filter(status=VersionStatus.PUBLISHED)

    def published(self) -> VersionQuerySet:
        return self.filter(status=VersionStatus.PUBLISHED)


class ProgramVersion(models.Model):
    public_id = PublicIdField(prefix="prv")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    effective_from = models.DateField(help_text="The first day of the first fiscal quarter it governs")
    pilot = models.BooleanField(default=False, help_text="Applies only to the pilot partners")
    pilot_partners = models.ManyToManyField("partners.Partner", blank=True, related_name="pilot_versions")
    credit_model = models.CharField(max_length=12, choices=CreditModel.choices, default=CreditModel.ORIGINATION)
    influence_share = models.DecimalField(
        max_digits=7, decimal_places=4, default=0,
        help_text="Origination: percent of the deal credited to each supporting partner",
    )
    role_shares = models.JSONField(default=dict, blank=True,
                                   help_text="Role-based: percent weight per partner role, e.g. {\"sourced\": \"70\"}")
    payout_frequency = models.CharField(max_length=10, choices=PayoutFrequency.choices,
                                        default=PayoutFrequency.QUARTERLY)
    payout_delay_days = models.PositiveSmallIntegerField(
        default=30, help_text="Earnings on a deal become payable this many days after the customer pays",
    )
    notes = models.TextField(blank=True, help_text="What changed, for the record")
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["program", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="program_version_number_once"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name} v{self.number}{' (pilot)' if self.pilot else ''}"

    def is_locked(self, today: date | None = None) -> bool:
        """Published and its first quarter has begun: its rules are what partners are paid by."""
        return self.status != VersionStatus.DRAFT and self.effective_from <= (today or timezone.localdate())


class Tier(models.Model):
    """A level of a program version: its rank, what it takes to hold it and what it brings besides rates
    (rates by tier are rule parameters, so the payout engine has one source of truth)."""

    public_id = PublicIdField(prefix="tie")
    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="tiers")
    code = models.SlugField(max_length=30, help_text="Stable key across versions, e.g. gold")
    name = models.CharField(max_length=60)
    rank = models.PositiveSmallIntegerField(help_text="1 is the entry tier; higher ranks are better")
    # requirements (in the program's currency); empty = not required
    min_annual_sales_minor = models.BigIntegerField(null=True, blank=True)
    min_certified_people = models.PositiveIntegerField(null=True, blank=True)
    min_satisfaction = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True,
                                           help_text="Average customer satisfaction, 0–10")
    min_deals = models.PositiveIntegerField(null=True, blank=True, help_text="Won deals in the last year")
    # benefits
    mdf_allowance_minor = models.BigIntegerField(default=0, help_text="Market development funds per quarter")
    dedicated_manager = models.BooleanField(default=False)
    lead_sharing = models.BooleanField(default=False)
    perks = models.JSONField(default=list, blank=True, help_text="Non-monetary benefits, one phrase each")

    class Meta:
        ordering = ["version", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="tier_code_once_per_version"),
            models.UniqueConstraint(fields=["version", "rank"], name="tier_rank_once_per_version"),
            models.CheckConstraint(condition=Q(mdf_allowance_minor__gte=0), name="tier_mdf_not_negative"),
            models.CheckConstraint(
                condition=Q(min_annual_sales_minor__isnull=True) | Q(min_annual_sales_minor__gte=0),
                name="tier_sales_requirement_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    public_id = PublicIdField(prefix="rul")
    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=24)
    name = models.CharField(max_length=120)
    params = models.JSONField(default=dict)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["version", "position", "id"]

    def __str__(self) -> str:
        return self.name

    def parsed(self):
        """The validated parameters (``covey.programs.rules``); tiers are this version's codes."""
        from covey.programs.rules import parse_rule

        return parse_rule(self.kind, self.params, tiers={t.code for t in self.version.tiers.all()})


class EnrolmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> EnrolmentQuerySet:
        """Vendor staff see every enrolment; a partner user only its own partner's."""
        return partner_rows(self, user)

    def current(self) -> EnrolmentQuerySet:
        return self.filter(ends_on__isnull=True)

    def on(self, day: date) -> EnrolmentQuerySet:
        return self.filter(starts_on__lte=day).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))


class Enrolment(models.Model):
    """A partner held ``tier_code`` in ``program`` from ``starts_on`` to ``ends_on`` (inclusive; None: still)."""

    public_id = PublicIdField(prefix="enr")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="enrolments")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="enrolments")
    tier_code = models.SlugField(max_length=30)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["partner", "program", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "program"], condition=Q(ends_on__isnull=True),
                                    name="one_current_enrolment_per_program"),
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                                   name="enrolment_ends_after_it_starts"),
        ]
        indexes = [models.Index(fields=["program", "partner", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.partner} · {self.tier_code} in {self.program}"
