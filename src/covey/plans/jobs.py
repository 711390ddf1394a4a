"""The plans' periodic job: tell an assignee, once, when a task of theirs becomes overdue."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from covey.core.notify import notify
from covey.core.schedule import periodic
from covey.crm.models import CLOSED_STAGES
from covey.plans.models import PlanTask
from covey.plans.services import day_text, plan_url

BATCH = 500


@periodic("plans.overdue_tasks")
def notify_overdue_tasks(now: datetime) -> int:
    """Open tasks past their due date whose assignee has not been told yet.

    Each task is claimed with a conditional update (``overdue_notified_at`` still empty) in the same
    transaction as its notification, so two sweeps running at once never notify twice, and a failed
    notification leaves the task to be claimed again. Plans of closed deals stay quiet.
    """
    today = timezone.localtime(now).date()
    candidates = (
        PlanTask.objects.filter(
            done_at__isnull=True, overdue_notified_at__isnull=True, due_date__lt=today,
            assignee__isnull=False, assignee__is_active=True,
        )
        .exclude(plan__opportunity__stage__in=CLOSED_STAGES)
        .select_related("assignee", "plan")
        .order_by("due_date", "id")
    )
    notified = 0
    for task in candidates[:BATCH]:
        with transaction.atomic():
            claimed = PlanTask.objects.filter(pk=task.pk, overdue_notified_at__isnull=True, done_at__isnull=True).update(
                overdue_notified_at=now,
            )
            if not claimed:
                continue
            notify(
                [task.assignee], kind="plan.task_overdue", title=f"Overdue: {task.title}",
                body=f"“{task.title}” on {task.plan.name} was due {day_text(task.due_date)} and is still open.",
                url=plan_url(task.plan),
            )
            notified += 1
    return notified
