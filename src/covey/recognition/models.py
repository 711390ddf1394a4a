"""Award rules (which awards run, and the bar a winner must clear) and the awards given per quarter.

One award per rule per fiscal quarter (a unique constraint): the quarterly job and the button both
call ``services.awards_run``, which only fills in the missing ones, so running it again changes
nothing. An award keeps the figure it was won with and a sentence explaining it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField


class AwardKind(models.TextChoices):
    TOP_COSELLER = "top_coseller", "Top co-seller"
    FASTEST_RAMP = "fastest_ramp", "Fastest ramp"
    BEST_OUTCOMES = "best_outcomes", "Best customer outcomes"


THRESHOLD_HELP = {
    AwardKind.TOP_COSELLER: "Minimum co-sell revenue won in the quarter, in the base currency's major units",
    AwardKind.FASTEST_RAMP: "Most days allowed from the countersigned agreement to the first won deal",
    AwardKind.BEST_OUTCOMES: "Minimum customer-satisfaction score (0–10) recorded in the quarter",
}


class AwardRule(models.Model):
    kind = models.CharField(max_length=16, choices=AwardKind.choices, unique=True)
    enabled = models.BooleanField(default=True)
    threshold = models.DecimalField(max_digits=14, decimal_places=2, default=0, help_text="See THRESHOLD_HELP")

    def __str__(self) -> str:
        return self.get_kind_display()

    @classmethod
    def all_rules(cls) -> list[AwardRule]:
        defaults = {AwardKind.TOP_COSELLER: 0, AwardKind.FASTEST_RAMP: 365, AwardKind.BEST_OUTCOMES: 7}
        for kind, threshold in defaults.items():
            cls.objects.get_or_create(kind=kind, defaults={"threshold": threshold})
        return list(cls.objects.order_by("kind"))


class AwardQuerySet(models.QuerySet):
    def visible_to(self, user) -> AwardQuerySet:
        """Vendor staff see every award; a partner user its own partner's."""
        return partner_rows(self, user)


class Award(models.Model):
    public_id = PublicIdField(prefix="awd")
    period_key = models.CharField(max_length=8)
    kind = models.CharField(max_length=16, choices=AwardKind.choices)
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="awards")
    value = models.CharField(max_length=60, help_text="The figure it was won with, as shown")
    explanation = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AwardQuerySet.as_manager()

    class Meta:
        ordering = ["-period_key", "kind"]
        constraints = [models.UniqueConstraint(fields=["period_key", "kind"], name="one_award_per_kind_per_quarter")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_key}: {self.partner}"


class AwardRun(models.Model):
    """The quarterly job took this quarter's awards (so later sweeps skip the computation)."""

    period_key = models.CharField(max_length=8, unique=True)
    ran_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.period_key
