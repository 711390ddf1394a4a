"""A tier review of one program for one quarter, its per-partner proposals, and satisfaction scores.

A review is taken once per program per quarter (``period_key``); each enrolled partner gets one
proposal carrying the evidence it was computed from (frozen in ``evidence``, so the page shows what
the decision was made on even after the numbers move). Only changes wait for a decision; a "keep"
proposal is recorded as evidence of the partner's standing and needs none.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField


class Change(models.TextChoices):
    PROMOTE = "promote", "Promotion"
    DEMOTE = "demote", "Demotion"
    MOVE = "move", "Re-placement"  # the partner's tier is no longer offered
    KEEP = "keep", "No change"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Awaiting decision"
    APPROVED = "approved", "Approved"
    OVERRIDDEN = "overridden", "Overridden"
    NONE_NEEDED = "none", "No decision needed"


class TierReview(models.Model):
    public_id = PublicIdField(prefix="trv")
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="tier_reviews")
    period_key = models.CharField(max_length=8, help_text="The fiscal quarter the review was taken in, e.g. 2026Q4")
    as_of = models.DateField(help_text="The last day of the year of results measured")
    effective_from = models.DateField(help_text="The first day approved changes apply from")
    version = models.ForeignKey("programs.ProgramVersion", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-as_of", "program__name"]
        constraints = [models.UniqueConstraint(fields=["program", "period_key"], name="one_tier_review_per_quarter")]

    def __str__(self) -> str:
        return f"{self.program} tier review {self.period_key}"


class ProposalQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProposalQuerySet:
        return partner_rows(self, user)

    def pending(self) -> ProposalQuerySet:
        return self.filter(status=ProposalStatus.PENDING)


class TierProposal(models.Model):
    public_id = PublicIdField(prefix="tpr")
    review = models.ForeignKey(TierReview, on_delete=models.CASCADE, related_name="proposals")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="tier_proposals")
    current_tier = models.SlugField(max_length=30)
    proposed_tier = models.SlugField(max_length=30)
    change = models.CharField(max_length=8, choices=Change.choices)
    evidence = models.JSONField(default=dict, help_text="The measured facts and every tier's checks")
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    decided_tier = models.SlugField(max_length=30, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    applies_from = models.DateField(null=True, blank=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["review", "partner__name"]
        constraints = [
            models.UniqueConstraint(fields=["review", "partner"], name="one_tier_proposal_per_partner"),
            models.CheckConstraint(condition=~Q(status="overridden") | ~Q(reason=""), name="override_has_reason"),
        ]
        indexes = [models.Index(fields=["partner", "status"])]

    def __str__(self) -> str:
        return f"{self.partner}: {self.current_tier} → {self.proposed_tier}"


class SatisfactionQuerySet(models.QuerySet):
    def visible_to(self, user) -> SatisfactionQuerySet:
        return partner_rows(self, user)


class SatisfactionScore(models.Model):
    """An average customer-satisfaction result (0–10) for a partner's customers, e.g. from a CSAT survey."""

    public_id = PublicIdField(prefix="sat")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="satisfaction_scores")
    score = models.DecimalField(max_digits=3, decimal_places=1)
    measured_on = models.DateField()
    source = models.CharField(max_length=120, help_text="Where the score comes from, e.g. 'Q3 CSAT survey, 41 answers'")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = SatisfactionQuerySet.as_manager()

    class Meta:
        ordering = ["-measured_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=10), name="satisfaction_0_to_10")]
        indexes = [models.Index(fields=["partner", "measured_on"])]

    def __str__(self) -> str:
        return f"{self.partner}: {self.score} on {self.measured_on}"
