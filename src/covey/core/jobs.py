"""The core's periodic housekeeping (registered with ``covey.core.schedule``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django_tasks_db.models import DBTaskResult

from covey.core.api import IDEMPOTENCY_TTL
from covey.core.models import IdempotencyKey
from covey.core.schedule import periodic

TASK_RESULTS_KEPT = timedelta(days=7)


@periodic("core.purge_idempotency_keys")
def purge_idempotency_keys(now: datetime) -> int:
    """Stored API replies older than the replay window can never be replayed again."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL).delete()
    return deleted


@periodic("core.purge_task_results")
def purge_task_results(now: datetime) -> int:
    """Finished task records are kept a week for troubleshooting, then dropped."""
    deleted, _ = DBTaskResult.objects.filter(
        status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=now - TASK_RESULTS_KEPT,
    ).delete()
    return deleted


@periodic("core.deliver_emails")
def deliver_emails(now: datetime) -> int:
    """Pending notification e-mails (``covey worker`` also sends them every few seconds)."""
    from covey.core.notify import DELIVERY_BATCH, deliver_pending_emails

    total = 0
    while (sent := deliver_pending_emails(now=now)) == DELIVERY_BATCH:
        total += sent
    return total + sent
