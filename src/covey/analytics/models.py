"""What analytics stores: its settings (what "active" means, the program overhead, the RAG
thresholds), scorecard targets per tier or per partner, and the notes a manager keeps per scorecard.

The figures themselves are computed from the records (``metrics.py``), so a figure can always be traced
back to the rows behind it; the rollup tables below only hold sums of those records, kept up to date
by ``rollups`` so the dashboards need not scan every deal on each view.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.ids import PublicIdField


class ActiveRule(models.TextChoices):
    REGISTRATION_OR_DEAL = "registration_or_deal", "At least one registration or deal in the period"
    DEAL = "deal", "At least one deal (created or won) in the period"
    WON_DEAL = "won_deal", "At least one won deal in the period"
    REGISTRATION = "registration", "At least one registration in the period"


class AnalyticsSettings(models.Model):
    """One row (id 1), read with ``current()``."""

    active_rule = models.CharField(max_length=24, choices=ActiveRule.choices, default=ActiveRule.REGISTRATION_OR_DEAL,
                                   help_text="What makes a partner count as active in a period")
    overhead_per_quarter_minor = models.BigIntegerField(
        default=0, validators=[MinValueValidator(0)],
        help_text="Program cost besides incentives (people, tools, events) per fiscal quarter, in the base currency")
    green_at = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.00"),
                                   help_text="Green from this share of target (1.00 = 100%)")
    amber_at = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0.80"),
                                   help_text="Amber from this share of target; red below it")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "analytics settings"
        constraints = [
            models.CheckConstraint(condition=Q(amber_at__gt=0) & Q(green_at__gte=models.F("amber_at")),
                                   name="analytics_rag_thresholds_ordered"),
            models.CheckConstraint(condition=Q(overhead_per_quarter_minor__gte=0), name="analytics_overhead_not_negative"),
        ]

    def __str__(self) -> str:
        return "Analytics settings"

    @classmethod
    def current(cls) -> AnalyticsSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class Measure(models.TextChoices):
    """The scorecard's measures; money ones are targeted in base-currency minor units."""

    DEALS_SOURCED = "deals_sourced", "Deals sourced"
    PIPELINE_SOURCED = "pipeline_sourced", "Pipeline sourced"
    PIPELINE_INFLUENCED = "pipeline_influenced", "Pipeline influenced"
    REVENUE_CLOSED = "revenue_closed", "Revenue closed"
    WIN_RATE = "win_rate", "Win rate"
    AVG_DEAL_SIZE = "avg_deal_size", "Average deal size"
    ACTIVE_ENGAGEMENTS = "active_engagements", "Active engagements"
    CERTIFIED_PEOPLE = "certified_people", "Certified people"
    TRAINING_COMPLETIONS = "training_completions", "Training completions"


MONEY_MEASURES = frozenset({Measure.PIPELINE_SOURCED, Measure.PIPELINE_INFLUENCED, Measure.REVENUE_CLOSED,
                            Measure.AVG_DEAL_SIZE})


class TargetQuerySet(models.QuerySet):
    def visible_to(self, user) -> TargetQuerySet:
        """Vendor staff see every target; a partner user its own partner's and its tier's (tier targets
        name no partner, so they reveal nothing about others)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        return self.filter(Q(partner_id=membership.partner_id) | Q(partner__isnull=True))


class Target(models.Model):
    """A target for one measure in one fiscal quarter, for every partner of a tier or for one partner
    (a partner's own target wins over its tier's)."""

    public_id = PublicIdField(prefix="tgt")
    period_key = models.CharField(max_length=8, help_text="Fiscal quarter, e.g. 2026Q3")
    partner = models.ForeignKey("partners.Partner", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="analytics_targets")
    tier_code = models.SlugField(max_length=30, blank=True)
    measure = models.CharField(max_length=24, choices=Measure.choices)
    amount_minor = models.BigIntegerField(null=True, blank=True, help_text="Money measures, base currency")
    value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True,
                                help_text="Counts, and rates as a share (0.25 = 25%)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["period_key", "measure", "id"]
        constraints = [
            models.CheckConstraint(condition=(Q(partner__isnull=False) & Q(tier_code="")) |
                                   (Q(partner__isnull=True) & ~Q(tier_code="")), name="target_for_partner_or_tier"),
            models.CheckConstraint(condition=(Q(amount_minor__isnull=False) & Q(value__isnull=True)) |
                                   (Q(amount_minor__isnull=True) & Q(value__isnull=False)), name="target_one_value"),
            models.UniqueConstraint(fields=["period_key", "partner", "measure"], condition=Q(partner__isnull=False),
                                    name="one_partner_target_per_measure"),
            models.UniqueConstraint(fields=["period_key", "tier_code", "measure"], condition=Q(partner__isnull=True),
                                    name="one_tier_target_per_measure"),
        ]

    def __str__(self) -> str:
        who = self.partner.name if self.partner_id else f"tier {self.tier_code}"
        return f"{self.period_key} {self.get_measure_display()} for {who}"


class ScorecardNoteQuerySet(models.QuerySet):
    def visible_to(self, user) -> ScorecardNoteQuerySet:
        from covey.core.access import partner_rows

        return partner_rows(self, user)


class ScorecardNote(models.Model):
    """The partner manager's notes on one partner's quarter, shown on its scorecard and QBR pack."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="scorecard_notes")
    period_key = models.CharField(max_length=8)
    text = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScorecardNoteQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "period_key"], name="one_scorecard_note_per_quarter")]

    def __str__(self) -> str:
        return f"Notes on {self.partner} {self.period_key}"


# --- rollups: summaries the dashboards read instead of scanning the deals (see ``rollups``) -----------


class DealRollup(models.Model):
    """Deals summed by motion (on the whole program), currency, local month and stage; ``basis`` says
    which month: "created" (every deal, by its creation) or "closed" (won and lost deals, by close date)."""

    basis = models.CharField(max_length=8)
    motion = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    month = models.IntegerField(help_text="YYYYMM in the installation's time zone")
    stage = models.CharField(max_length=30)
    deals = models.BigIntegerField()
    amount_minor = models.BigIntegerField()
    cycle_days = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["basis", "month", "motion", "currency", "stage"],
                                               name="one_deal_rollup_row")]

    def __str__(self) -> str:
        return f"{self.basis} {self.month} {self.motion} {self.stage} {self.currency}"


class PartnerRollup(models.Model):
    """One partner's deal links summed like ``DealRollup``, by whether the partner brought the deal
    (``sourcing``) and whether other partners are on it too (``shared``)."""

    partner_id = models.BigIntegerField()
    sourcing = models.BooleanField()
    shared = models.BooleanField()
    basis = models.CharField(max_length=8)
    currency = models.CharField(max_length=3)
    month = models.IntegerField()
    stage = models.CharField(max_length=30)
    deals = models.BigIntegerField()
    amount_minor = models.BigIntegerField()
    cycle_days = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["partner_id", "basis", "month"], name="partner_rollup_partner"),
                   # Covering (PostgreSQL): the program dashboard's per-partner reads are index-only scans.
                   models.Index(fields=["basis", "month", "stage"], name="partner_rollup_month",
                                include=["partner_id", "sourcing", "currency", "amount_minor"])]

    def __str__(self) -> str:
        return f"partner {self.partner_id} {self.basis} {self.month} {self.stage} {self.currency}"


class DealLink(models.Model):
    """Every partner link with its deal's facts: what a partner filter needs to count a deal with
    several partners (``shared``) once, in the motion its counted partners give it, and what a
    scorecard's top deals are picked from without visiting every deal of a busy partner."""

    opportunity_id = models.BigIntegerField()
    partner_id = models.BigIntegerField()
    sourcing = models.BooleanField()
    shared = models.BooleanField()
    currency = models.CharField(max_length=3)
    created_month = models.IntegerField()
    close_month = models.IntegerField()
    stage = models.CharField(max_length=30)
    amount_minor = models.BigIntegerField()
    cycle_days = models.BigIntegerField(null=True, help_text="Won and lost deals only")

    class Meta:
        indexes = [models.Index(fields=["partner_id", "close_month", "amount_minor"], name="deal_link_partner"),
                   models.Index(fields=["opportunity_id"], name="deal_link_deal")]

    def __str__(self) -> str:
        return f"deal {self.opportunity_id} partner {self.partner_id}"


class RollupChange(models.Model):
    """Written by database triggers on every change of a deal's counted fields or of its partner links
    (inserts, updates, deletes): the deal, the partner (link changes) and the old or new dates, so the
    refresh knows which groups to recompute. The refresh deletes the rows it has applied."""

    opportunity_id = models.BigIntegerField()
    partner_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(null=True)
    close_date = models.DateField(null=True)

    def __str__(self) -> str:
        return f"change to deal {self.opportunity_id}"


class RollupState(models.Model):
    """One row (id 1): when the rollups were built and last brought up to date."""

    version = models.IntegerField()
    time_zone = models.CharField(max_length=64)
    built_at = models.DateTimeField()
    as_of = models.DateTimeField(help_text="Every change committed before this is in the rollups")
    last_seconds = models.FloatField(default=0)
    last_changes = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"Rollups as of {self.as_of}"


class OutcomeSnapshot(models.Model):
    """The outcome figures that scan a year of customers (retention, churn, NRR; new partner-sourced
    customers for CAC) of one filter set, as last computed. They take seconds at a million deals, so
    the periodic job ``analytics.snapshot_outcomes`` recomputes the standard views every minute and a
    page keeps what it had to compute; a snapshot older than ``outcomes.SNAPSHOT_MAX_AGE`` is not used."""

    key = models.CharField(max_length=300, unique=True)
    computed_at = models.DateTimeField()
    data = models.JSONField()

    def __str__(self) -> str:
        return f"{self.key} at {self.computed_at:%Y-%m-%d %H:%M:%S}"
