"""The plan engine: templates of stages with day windows and tasks, and the dated plans made from them.

A template is a playbook ("co-sell, partner-led"); applying it to a partner (and optionally one of
its opportunities) on a start date copies every stage and task into a ``Plan`` with real dates and
assignees. The copy is deliberate: editing a template later never rewrites plans already running.

Day windows count from the plan's start: day 1 is the start date, so a stage over days 8–21 starts
on ``start + 7`` and is due on ``start + 20`` (see ``window_dates``).

Who sees a plan follows its partner: vendor staff see every plan, a partner user the plans of its
own partner; stages and tasks are only ever reached through a visible plan.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField
from covey.core.vocab import EngagementModel

MAX_DAY = 3650  # ten years: far beyond any playbook, small enough that a typo is caught


class PlanKind(models.TextChoices):
    DEAL = "deal", "Deal (co-selling)"
    ONBOARDING = "onboarding", "Partner onboarding"
    LAUNCH = "launch", "Launch"


class OwnerSide(models.TextChoices):
    PARTNER = "partner", "Partner"
    VENDOR = "vendor", "Vendor"
    BOTH = "both", "Both"


def window_dates(start: date, start_day: int, end_day: int) -> tuple[date, date]:
    """The calendar dates of a day window: day 1 is ``start`` itself."""
    return start + timedelta(days=start_day - 1), start + timedelta(days=end_day - 1)


# --- templates -------------------------------------------------------------------------------


class PlanTemplateQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlanTemplateQuerySet:
        """Playbooks are the vendor's own working documents: vendor staff read them, admins edit them."""
        if not user.is_authenticated or not user.is_active or not user.is_vendor:
            return self.none()
        return self

    def default_for(self, engagement_model: str) -> PlanTemplate | None:
        """The active deal template that is the default for ``engagement_model``, or None."""
        if not engagement_model:
            return None
        return self.filter(
            kind=PlanKind.DEAL, engagement_model=engagement_model, is_default=True, is_active=True,
        ).first()


class PlanTemplate(models.Model):
    public_id = PublicIdField(prefix="ptm")
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=12, choices=PlanKind.choices, default=PlanKind.DEAL)
    engagement_model = models.CharField(
        max_length=20, choices=EngagementModel.choices, blank=True,
        help_text="For deal plans: the engagement model this playbook is written for.",
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="Only active templates can be applied.")
    is_default = models.BooleanField(
        default=False, editable=False,
        help_text="Applied automatically to new deals of its engagement model (one per model).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            # Two defaults for one model would make "which playbook does a new deal get" a coin toss.
            models.UniqueConstraint(
                fields=["engagement_model"], condition=Q(is_default=True), name="plan_template_one_default_per_model",
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | (Q(kind="deal", is_active=True) & ~Q(engagement_model="")),
                name="plan_template_default_is_active_deal_with_model",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.engagement_model and self.kind != PlanKind.DEAL:
            raise ValidationError({"engagement_model": "Only deal templates have an engagement model."})

    @property
    def total_days(self) -> int:
        return max((s.end_day for s in self.stages.all()), default=0)


class StageTemplate(models.Model):
    public_id = PublicIdField(prefix="pst")
    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=120)
    start_day = models.PositiveSmallIntegerField(help_text="First day of the stage; day 1 is the plan's start date.")
    end_day = models.PositiveSmallIntegerField(help_text="Last day of the stage: its tasks are due then.")
    gate_name = models.CharField(
        max_length=120, blank=True,
        help_text="A checkpoint passed at the end of the stage, e.g. “Joint qualification debrief”.",
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start_day__gte=1), name="stage_template_starts_on_day_one_or_later"),
            models.CheckConstraint(condition=Q(end_day__gte=models.F("start_day")), name="stage_template_window_ordered"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.start_day is not None and not 1 <= self.start_day <= MAX_DAY:
            errors["start_day"] = f"Give a day between 1 and {MAX_DAY}."
        if self.end_day is not None and not 1 <= self.end_day <= MAX_DAY:
            errors["end_day"] = f"Give a day between 1 and {MAX_DAY}."
        if not errors and self.start_day is not None and self.end_day is not None and self.end_day < self.start_day:
            errors["end_day"] = "The stage cannot end before it starts."
        if errors:
            raise ValidationError(errors)


class TaskTemplate(models.Model):
    public_id = PublicIdField(prefix="ptt")
    stage = models.ForeignKey(StageTemplate, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_side = models.CharField(max_length=8, choices=OwnerSide.choices, default=OwnerSide.BOTH)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title


# --- plans -----------------------------------------------------------------------------------


class PlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlanQuerySet:
        """Vendor staff see every plan; a partner user sees the plans of its own partner."""
        return partner_rows(self, user)


class Plan(models.Model):
    public_id = PublicIdField(prefix="pln")
    template = models.ForeignKey(PlanTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans")
    kind = models.CharField(max_length=12, choices=PlanKind.choices, default=PlanKind.DEAL)
    name = models.CharField(max_length=255)
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="plans")
    opportunity = models.ForeignKey(
        "crm.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="plans",
    )
    start_date = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "-created_at"])]

    def __str__(self) -> str:
        return self.name


class PlanStage(models.Model):
    public_id = PublicIdField(prefix="pls")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=120)
    start_date = models.DateField()
    due_date = models.DateField()
    gate_name = models.CharField(max_length=120, blank=True)
    gate_passed_at = models.DateTimeField(null=True, blank=True)
    gate_passed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.plan})"

    @property
    def gate_passed(self) -> bool:
        return self.gate_passed_at is not None


class PlanTaskQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlanTaskQuerySet:
        """A task is visible exactly when its plan is."""
        return self.filter(plan__in=Plan.objects.visible_to(user).values("pk"))

    def open(self) -> PlanTaskQuerySet:
        return self.filter(done_at__isnull=True)

    def overdue(self, today: date) -> PlanTaskQuerySet:
        return self.filter(done_at__isnull=True, due_date__lt=today)


class PlanTask(models.Model):
    public_id = PublicIdField(prefix="ptk")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    stage = models.ForeignKey(PlanStage, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_side = models.CharField(max_length=8, choices=OwnerSide.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="plan_tasks",
    )
    due_date = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    objects = PlanTaskQuerySet.as_manager()

    class Meta:
        ordering = ["stage__order", "order", "id"]
        indexes = [
            # The overdue sweep: open tasks past due that nobody has been told about yet.
            models.Index(fields=["due_date"], condition=Q(done_at__isnull=True, overdue_notified_at__isnull=True),
                         name="plan_task_overdue_sweep"),
            models.Index(fields=["assignee", "done_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def is_overdue(self, today: date | None = None) -> bool:
        return self.done_at is None and self.due_date < (today or timezone.localdate())
