"""Telling people about things: one in-app notification each, which is also the e-mail's outbox entry.

Every feature that has "a person waiting on someone" calls ``notify``. The notification row carries
the e-mail's state (``email_status`` pending → sent, or failed after retries), so writing the
notification *is* queueing the e-mail: one insert, committed or rolled back with the change that
caused it. ``covey worker`` sends pending e-mails every few seconds (``deliver_pending_emails``);
the periodic sweep (``covey tick``) does too, for deployments that run jobs from cron.

When tasks run inline (the immediate task backend: tests, or a deployment without a worker), the
e-mails of a notification are sent right after the transaction commits instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from covey.core.bulk import insert_instances
from covey.core.models import EmailStatus, Notification, User

log = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 5
DELIVERY_BATCH = 50
RECIPIENT_INACTIVE = "The recipient's account is deactivated."


def notify(
    recipients: Iterable[User | None],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = True,
    exclude: User | None = None,
) -> list[Notification]:
    """Notify each distinct active recipient (skipping ``None`` and ``exclude``, usually the actor)."""
    made = compose(recipients, kind=kind, title=title, body=body, url=url, email=email, exclude=exclude)
    insert_instances(made)
    written(made)
    return made


def compose(
    recipients: Iterable[User | None], *, kind: str, title: str, body: str = "", url: str = "",
    email: bool = True, exclude: User | None = None,
) -> list[Notification]:
    """The unsaved notifications ``notify`` would write, for a caller that inserts them together with
    its own rows (``core.bulk.insert_together``); call ``written`` once they are inserted."""
    seen: dict[int, User] = {}
    for user in recipients:
        if user is None or not user.is_active or (exclude is not None and user.pk == exclude.pk):
            continue
        seen.setdefault(user.pk, user)
    status = EmailStatus.PENDING if email else EmailStatus.NONE
    return [
        Notification(recipient=user, kind=kind, title=title[:200], body=body, url=url, email_status=status)
        for user in seen.values()
    ]


def written(made: list[Notification]) -> None:
    """After inserting notifications: when tasks run inline, send their e-mails once the change commits."""
    pending = [n.pk for n in made if n.email_status == EmailStatus.PENDING]
    if pending and _tasks_run_inline():
        transaction.on_commit(lambda: deliver_pending_emails(ids=pending))


def _tasks_run_inline() -> bool:
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks.backends.immediate import ImmediateBackend

    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], ImmediateBackend)


def email_text(note: Notification) -> str:
    return note.body + (f"\n\nOpen in Covey: {settings.SITE_URL}{note.url}" if note.url else "")


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=2 ** attempts)  # 2, 4, 8, 16 minutes between the five attempts


def deliver_pending_emails(*, now: datetime | None = None, ids: list[int] | None = None,
                           limit: int = DELIVERY_BATCH) -> int:
    """Send up to ``limit`` pending e-mails that are due (only ``ids``, when given); return how many
    went out. Rows are claimed with ``SKIP LOCKED``, so several workers never send one twice."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = Notification.objects.filter(email_status=EmailStatus.PENDING).filter(
            Q(email_next_attempt_at__isnull=True) | Q(email_next_attempt_at__lte=now)
        )
        if ids is not None:
            due = due.filter(pk__in=ids)
        batch = list(
            due.select_related("recipient").select_for_update(skip_locked=True, of=("self",)).order_by("id")[:limit]
        )
        for note in batch:
            note.email_attempts += 1
            if not note.recipient.is_active:
                note.email_status, note.email_error = EmailStatus.FAILED, RECIPIENT_INACTIVE
                continue
            try:
                send_mail(note.title, email_text(note), settings.DEFAULT_FROM_EMAIL, [note.recipient.email])
            except Exception as exc:  # an SMTP outage must not lose the e-mail: try again later
                log.warning("e-mail %s to %s failed (attempt %d): %s", note.public_id, note.recipient.email,
                            note.email_attempts, exc)
                note.email_error = f"{type(exc).__name__}: {exc}"[:300]
                if note.email_attempts >= MAX_EMAIL_ATTEMPTS:
                    note.email_status = EmailStatus.FAILED
                else:
                    note.email_next_attempt_at = now + _retry_delay(note.email_attempts)
                continue
            note.email_status, note.emailed_at, note.email_error = EmailStatus.SENT, now, ""
            sent += 1
        Notification.objects.bulk_update(
            batch, ["email_status", "email_attempts", "email_next_attempt_at", "emailed_at", "email_error"]
        )
    return sent


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
