"""Background tasks of the core: e-mail delivery and the periodic jobs sweep (django-tasks)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task

log = logging.getLogger(__name__)


@task()
def send_email(*, to: str, subject: str, body: str) -> None:
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


@task()
def run_periodic_jobs() -> dict[str, int]:
    """Run every registered periodic job once (see ``covey.core.schedule``)."""
    from covey.core.schedule import run_jobs

    return run_jobs()
