"""A partner NPS campaign, the people it was sent to, and their answers.

A campaign is written as a draft (question, audience, open and close dates), then sent: sending
fixes the audience as one ``Invitation`` per partner user (with the partner the user acted for at
that moment), and queues one e-mail each with a personal signed link. Each invitation gets at most
one ``Answer`` (a unique constraint, so two clicks or two tabs cannot answer twice).

An answer keeps the partner, its types and its tier as they were when it was given, so a campaign's
breakdown does not move when a partner later changes tier.

Who sees answers: the vendor's staff only. A partner user sees its own answer and nothing else; a
partner admin does *not* see its colleagues' answers (candid feedback about the vendor is the point
of the survey, and a manager reading it would chill it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.ids import PublicIdField

DEFAULT_QUESTION = "How likely is it that you would recommend working with {company} to a friend or colleague?"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"  # sent before its open date: the sweep sends it on that day
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user) -> CampaignQuerySet:
        """Campaigns are the vendor's; partner users reach theirs through their invitations."""
        if not user.is_authenticated or not user.is_active or not user.is_vendor:
            return self.none()
        return self


class Campaign(models.Model):
    public_id = PublicIdField(prefix="nps")
    name = models.CharField(max_length=120)
    question = models.CharField(max_length=300)
    audience_all = models.BooleanField(default=True, help_text="Every user of every partner not terminated")
    audience_partners = models.ManyToManyField("partners.Partner", blank=True, related_name="+")
    audience_types = models.JSONField(default=list, blank=True, help_text="Partner type codes")
    audience_tiers = models.JSONField(default=list, blank=True, help_text="Tier codes held on the send date")
    opens_on = models.DateField()
    closes_on = models.DateField()
    remind_days_before = models.PositiveSmallIntegerField(default=3, help_text="One reminder this many days before closing")
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")), name="nps_closes_after_opening")]

    def __str__(self) -> str:
        return self.name


class InvitationQuerySet(models.QuerySet):
    def visible_to(self, user) -> InvitationQuerySet:
        """Vendor staff see every invitation; a partner user only the ones sent to itself."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self if user.is_vendor else self.filter(user=user)


class Invitation(models.Model):
    public_id = PublicIdField(prefix="npi")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="one_nps_invitation_per_person")]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.user}"


class Answer(models.Model):
    public_id = PublicIdField(prefix="npa")
    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="answer")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="answers")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    partner_types = models.JSONField(default=list, help_text="The partner's type codes when it answered")
    tier_codes = models.JSONField(default=list, help_text="The tiers it held (any program) when it answered")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=8, default="web", help_text="web (signed in), link (e-mailed token) or api")

    class Meta:
        ordering = ["-answered_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(score__lte=10), name="nps_score_0_to_10")]
        indexes = [models.Index(fields=["partner", "answered_at"]), models.Index(fields=["answered_at"])]

    def __str__(self) -> str:
        return f"{self.partner}: {self.score}"
