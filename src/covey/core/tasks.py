"""Background tasks of the core: the periodic jobs sweep (django-tasks). E-mails are not tasks: the
notification rows are their outbox (``covey.core.notify``)."""

from __future__ import annotations

import logging

from django_tasks import task

log = logging.getLogger(__name__)


@task()
def run_periodic_jobs() -> dict[str, int]:
    """Run every registered periodic job once (see ``covey.core.schedule``)."""
    from covey.core.schedule import run_jobs

    return run_jobs()
