"""Telling people about things: one in-app notification each, plus an e-mail sent by the task queue.

Every feature that has "a person waiting on someone" calls ``notify``. The e-mail is queued only
when the surrounding transaction commits, so a rolled-back decision never mails anyone.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from covey.core.models import Notification, User


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
    seen: dict[int, User] = {}
    for user in recipients:
        if user is None or not user.is_active or (exclude is not None and user.pk == exclude.pk):
            continue
        seen.setdefault(user.pk, user)
    if not seen:
        return []
    made = Notification.objects.bulk_create(
        [Notification(recipient=user, kind=kind, title=title[:200], body=body, url=url) for user in seen.values()]
    )
    if email:
        addresses = [user.email for user in seen.values()]
        text = body + (f"\n\nOpen in Covey: {settings.SITE_URL}{url}" if url else "")
        if _queue_is_transactional():
            _queue_emails(addresses, title, text)  # the task rows commit or roll back with the change
        else:
            transaction.on_commit(lambda: _queue_emails(addresses, title, text))
    return made


def _queue_is_transactional() -> bool:
    """True when tasks are queued in this database (django-tasks-db): queueing inside the open
    transaction is then atomic with the change and saves a second commit per notification."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


def _queue_emails(addresses: list[str], subject: str, text: str) -> None:
    from covey.core.tasks import send_email

    for address in addresses:
        send_email.enqueue(to=address, subject=subject, body=text)


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
