"""Co-selling: who leads a partner deal, the deal room's records, and escalations.

An ``Engagement`` is one partner's part in one opportunity: its engagement model (who leads), the
plan applied for it, and the deal room's team, notes, meeting records and questions. Everything in
a deal room hangs off the engagement, not the opportunity, so on a deal with several partners each
partner's people see only their own side's conversation with the vendor.

Escalations belong to the opportunity (a stalled deal is stalled for everyone); one raised from a
deal room also names its partner, and only that partner's people see it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.ids import PublicIdField
from covey.core.vocab import EngagementModel
from covey.cosell import rules

QUESTION_RESPONSE_TIME = timedelta(hours=24)
SYNC_WARNING_AFTER = timedelta(days=7)


class Side(models.TextChoices):
    PARTNER = "partner", "Partner"
    VENDOR = "vendor", "Vendor"


def side_of(user) -> str:
    return Side.VENDOR if user.is_vendor else Side.PARTNER


# --- rules -----------------------------------------------------------------------------------


class EngagementRules(models.Model):
    """The vendor's defaults for engagement models and escalation triggers. Always row id 1."""

    small_deal_minor = models.JSONField(
        default=rules.default_small_deal, blank=True,
        help_text="Per currency, in minor units: deals below this get the simplified playbook",
    )
    strategic_minor = models.JSONField(
        default=rules.default_strategic_value, blank=True,
        help_text="Per currency, in minor units: strategic partners co-sell deals of at least this",
    )
    strategic_partner_types = models.JSONField(
        default=list, blank=True,
        help_text="Partner type codes treated as strategic besides strategic_alliance",
    )
    stalled_days = models.PositiveSmallIntegerField(default=21, help_text="Escalate a deal this many days in one stage")
    prospect_silent_days = models.PositiveSmallIntegerField(
        default=14, help_text="Escalate a deal with no activity for this many days",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "engagement rules"
        verbose_name_plural = "engagement rules"
        constraints = [
            models.CheckConstraint(condition=Q(stalled_days__gte=1), name="cosell_rules_stalled_days_positive"),
            models.CheckConstraint(condition=Q(prospect_silent_days__gte=1), name="cosell_rules_silent_days_positive"),
        ]

    def __str__(self) -> str:
        return "Engagement rules"

    @classmethod
    def current(cls) -> EngagementRules:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    def rule_set(self) -> rules.RuleSet:
        return rules.RuleSet(
            small_deal_minor=dict(self.small_deal_minor or {}),
            strategic_minor=dict(self.strategic_minor or {}),
            strategic_types=frozenset(self.strategic_partner_types or ()),
        )


# --- engagements -----------------------------------------------------------------------------


class EngagementQuerySet(models.QuerySet):
    def visible_to(self, user) -> EngagementQuerySet:
        """Vendor staff see every engagement; a partner user its own partner's, on deals it is on."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        from covey.crm.models import OpportunityPartner

        on_deals = OpportunityPartner.objects.filter(partner_id=membership.partner_id).values("opportunity_id")
        return self.filter(partner_id=membership.partner_id, opportunity_id__in=on_deals)


class Engagement(models.Model):
    public_id = PublicIdField(prefix="eng")
    opportunity = models.ForeignKey("crm.Opportunity", on_delete=models.CASCADE, related_name="engagements")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="engagements")
    model = models.CharField(max_length=12, choices=EngagementModel.choices)
    why = models.CharField(max_length=300, blank=True, help_text="The rule (or the reason given) that chose the model")
    sourced_by_partner = models.BooleanField(default=False)
    plan = models.ForeignKey("plans.Plan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Activities on the deal created after this have been announced to the deal team.
    prospect_watermark = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "partner"], name="engagement_once_per_partner"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} on {self.opportunity}"


class EngagementChange(models.Model):
    """One change of an engagement's model: the history the deal room shows."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="changes")
    from_model = models.CharField(max_length=12, choices=EngagementModel.choices)
    to_model = models.CharField(max_length=12, choices=EngagementModel.choices)
    reason = models.TextField()
    replanned = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_from_model_display()} → {self.get_to_model_display()}"


class TeamRole(models.TextChoices):
    ACCOUNT_EXECUTIVE = "account_executive", "Account executive"
    PARTNER_REP = "partner_rep", "Partner rep"
    SALES_ENGINEER = "sales_engineer", "Sales engineer"
    SALES_MANAGER = "sales_manager", "Sales manager"
    PARTNER_MANAGER = "partner_manager", "Partner manager"
    EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"
    DEAL_DESK = "deal_desk", "Deal desk"
    OTHER = "other", "Other"


class DealTeamMember(models.Model):
    public_id = PublicIdField(prefix="dtm")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=7, choices=Side.choices)
    role = models.CharField(max_length=20, choices=TeamRole.choices, default=TeamRole.OTHER)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["side", "added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["engagement", "user"], name="deal_team_member_once")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class DealNote(models.Model):
    public_id = PublicIdField(prefix="dnt")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    side = models.CharField(max_length=7, choices=Side.choices)
    body = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.body[:60]


class MeetingKind(models.TextChoices):
    PREP = "prep", "Meeting prep"
    DEBRIEF = "debrief", "Debrief"


class MeetingRecord(models.Model):
    """The prep before a prospect meeting or the debrief after it, agreed between the two sides."""

    public_id = PublicIdField(prefix="mtg")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(max_length=7, choices=MeetingKind.choices)
    meeting_date = models.DateField()
    title = models.CharField(max_length=200)
    # prep
    agenda = models.TextField(blank=True, max_length=5_000, help_text="Agenda and objectives")
    leads = models.TextField(blank=True, max_length=2_000, help_text="Who leads each part of the meeting")
    key_messages = models.TextField(blank=True, max_length=5_000, help_text="Messages and positioning both sides agree on")
    follow_ups = models.TextField(blank=True, max_length=5_000, help_text="Follow-up actions to confirm")
    # debrief
    learnings = models.TextField(blank=True, max_length=5_000, help_text="What was learned")
    next_steps = models.TextField(blank=True, max_length=5_000, help_text="Next steps, each with its owner")
    concerns = models.TextField(blank=True, max_length=5_000, help_text="Issues or concerns to flag")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-meeting_date", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class DealQuestion(models.Model):
    """An internal question from one side to the other, to be answered within 24 hours."""

    public_id = PublicIdField(prefix="dq")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    to_side = models.CharField(max_length=7, choices=Side.choices)
    body = models.TextField(max_length=5_000)
    asked_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    answer = models.TextField(blank=True, max_length=10_000)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    # Set by the question clock when it found the question past due and sent the one reminder.
    overdue_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at", "-id"]
        indexes = [models.Index(fields=["answered_at", "due_at"])]

    def __str__(self) -> str:
        return self.body[:60]

    def is_overdue(self, now=None) -> bool:
        if self.answered_at is not None:
            return False
        return self.overdue_at is not None or self.due_at < (now or timezone.now())


# --- escalations -----------------------------------------------------------------------------


class EscalationLevel(models.IntegerChoices):
    REP = 1, "1 · Rep to rep"
    MANAGERS = 2, "2 · Managers"
    EXECUTIVES = 3, "3 · Executives"
    DEAL_DESK = 4, "4 · Deal desk and legal"


class EscalationTrigger(models.TextChoices):
    MANUAL = "manual", "Raised by hand"
    STALLED = "stalled_in_stage", "Stalled in stage"
    SILENT = "prospect_silent", "Prospect silent"
    PRICING = "non_standard_pricing", "Non-standard pricing"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"


LIVE_STATUSES = (EscalationStatus.OPEN, EscalationStatus.IN_PROGRESS)


class EscalationQuerySet(models.QuerySet):
    def visible_to(self, user) -> EscalationQuerySet:
        """Vendor staff see all; a partner user those on its deals that name no partner or its own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        from covey.crm.models import OpportunityPartner

        on_deals = OpportunityPartner.objects.filter(partner_id=membership.partner_id).values("opportunity_id")
        return self.filter(
            Q(partner__isnull=True) | Q(partner_id=membership.partner_id), opportunity_id__in=on_deals,
        )

    def live(self) -> EscalationQuerySet:
        return self.filter(status__in=LIVE_STATUSES)


class Escalation(models.Model):
    public_id = PublicIdField(prefix="esc")
    opportunity = models.ForeignKey("crm.Opportunity", on_delete=models.CASCADE, related_name="escalations")
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Set when raised from one partner's deal room: only that partner's people see it",
    )
    level = models.PositiveSmallIntegerField(choices=EscalationLevel.choices)
    trigger = models.CharField(max_length=20, choices=EscalationTrigger.choices, default=EscalationTrigger.MANUAL)
    reason = models.TextField(max_length=5_000)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    status = models.CharField(max_length=12, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    resolution = models.TextField(blank=True, max_length=5_000)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A trigger that keeps firing must not pile up escalations: one live one per deal and trigger.
            models.UniqueConstraint(
                fields=["opportunity", "trigger"],
                condition=Q(status__in=["open", "in_progress"]) & ~Q(trigger="manual"),
                name="escalation_one_live_per_trigger",
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=4), name="escalation_level_valid"),
            models.CheckConstraint(
                condition=~Q(status="resolved") | ~Q(resolution=""), name="escalation_resolution_required",
            ),
        ]
        indexes = [models.Index(fields=["status", "trigger"])]

    def __str__(self) -> str:
        return f"Level {self.level} on {self.opportunity}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES
