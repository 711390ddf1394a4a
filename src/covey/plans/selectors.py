"""Reading plans: progress figures for lists, and everything the plan UI needs for one plan.

``plan_context(plan, user)`` is what the plan page and any page embedding a plan (the deal room)
pass to ``plans/_plan.html``: ``context.update(plan_context(plan, user))`` then
``{% include "plans/_plan.html" %}``. Its keys are ``plan`` and ``plan_view``; the include reads only
those, so it never collides with the embedding page's own ``can_edit`` and friends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from covey.core.models import User
from covey.partners.models import Membership
from covey.plans import access
from covey.plans.models import OwnerSide, Plan, PlanStage, PlanTask


def _count(condition: Q) -> Coalesce:
    counted = (
        PlanTask.objects.filter(condition, plan=OuterRef("pk")).order_by().values("plan")
        .annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_progress(plans: QuerySet, today: date | None = None) -> QuerySet:
    """Annotate ``tasks_total``, ``tasks_done`` and ``tasks_overdue`` (correlated subqueries, so a
    list page counts only for the rows it shows)."""
    today = today or timezone.localdate()
    return plans.annotate(
        tasks_total=_count(Q()),
        tasks_done=_count(Q(done_at__isnull=False)),
        tasks_overdue=_count(Q(done_at__isnull=True, due_date__lt=today)),
    )


def percent(done: int, total: int) -> int:
    return round(100 * done / total) if total else 0


def vendor_people() -> list[User]:
    return list(User.objects.exclude(staff_role="").filter(is_active=True).order_by("full_name", "email"))


def partner_people(partner) -> list[User]:
    return [
        m.user for m in Membership.objects.filter(partner=partner, user__is_active=True)
        .select_related("user").order_by("user__full_name", "user__email")
    ]


def assignee_choices(task: PlanTask, user, *, vendor: list[User] | None = None, partner: list[User] | None = None) -> list[User]:
    """The people ``user`` may give ``task`` to: the task's side(s), and only their own company's
    people for a partner user."""
    vendor = vendor_people() if vendor is None else vendor
    partner = partner_people(task.plan.partner) if partner is None else partner
    if not user.is_vendor:
        return partner if task.owner_side != OwnerSide.VENDOR else []
    if task.owner_side == OwnerSide.VENDOR:
        return vendor
    if task.owner_side == OwnerSide.PARTNER:
        return partner
    return vendor + partner


@dataclass
class PlanView:
    plan: Plan
    stages: list[PlanStage]
    total: int
    done: int
    overdue: int
    today: date
    can_work: bool
    can_gate: bool
    people: dict[str, list[User]] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)


def decorate_task(task: PlanTask, user, today: date, *, vendor: list[User] | None = None, partner: list[User] | None = None) -> PlanTask:
    """Give a task the flags its row shows: ``overdue``, ``can_tick``, ``can_assign``, ``choices``."""
    task.overdue = task.is_overdue(today)
    task.can_tick = access.can_tick(user, task)
    task.can_assign = access.can_assign(user, task)
    task.choices = assignee_choices(task, user, vendor=vendor, partner=partner) if task.can_assign else []
    task.gate_locked = task.stage.gate_passed_at is not None
    return task


def decorate_stage(stage: PlanStage, today: date) -> PlanStage:
    tasks = stage.task_list
    stage.open_count = sum(1 for t in tasks if t.done_at is None)
    stage.done_count = len(tasks) - stage.open_count
    stage.is_current = stage.start_date <= today <= stage.due_date
    stage.is_late = stage.open_count > 0 and stage.due_date < today
    return stage


def plan_context(plan: Plan, user, *, today: date | None = None) -> dict:
    """What ``plans/_plan.html`` needs for ``plan`` as seen by ``user`` (who can already see it)."""
    today = today or timezone.localdate()
    stages = list(plan.stages.select_related("gate_passed_by"))
    tasks = list(plan.tasks.select_related("assignee", "done_by"))
    can_work = access.can_work_on(user, plan)
    vendor = vendor_people() if can_work and user.is_vendor else []
    partner = partner_people(plan.partner) if can_work else []
    by_stage: dict[int, list[PlanTask]] = {s.pk: [] for s in stages}
    stage_of = {s.pk: s for s in stages}
    for task in tasks:
        task.plan = plan
        task.stage = stage_of[task.stage_id]
        by_stage[task.stage_id].append(decorate_task(task, user, today, vendor=vendor, partner=partner))
    for stage in stages:
        stage.plan = plan
        stage.task_list = by_stage[stage.pk]
        decorate_stage(stage, today)
    view = PlanView(
        plan=plan, stages=stages, total=len(tasks), done=sum(1 for t in tasks if t.done_at is not None),
        overdue=sum(1 for t in tasks if t.overdue), today=today, can_work=can_work,
        can_gate=access.can_pass_gate(user, plan),
    )
    return {"plan": plan, "plan_view": view}


def task_row_context(task: PlanTask, user, *, today: date | None = None) -> dict:
    """One task row (the htmx answer to a tick or an assignment), with the plan's new progress."""
    today = today or timezone.localdate()
    plan = Plan.objects.filter(pk=task.plan_id).first()
    task = PlanTask.objects.select_related("assignee", "done_by", "stage").get(pk=task.pk)
    task.plan = plan
    decorate_task(task, user, today)
    stage = task.stage
    stage.task_list = list(stage.tasks.all())
    decorate_stage(stage, today)
    counts = with_progress(Plan.objects.filter(pk=plan.pk), today).values("tasks_total", "tasks_done", "tasks_overdue")[0]
    view = PlanView(
        plan=plan, stages=[stage], total=counts["tasks_total"], done=counts["tasks_done"],
        overdue=counts["tasks_overdue"], today=today, can_work=access.can_work_on(user, plan),
        can_gate=access.can_pass_gate(user, plan),
    )
    return {"plan": plan, "plan_view": view, "task": task, "stage": stage, "oob": True}
