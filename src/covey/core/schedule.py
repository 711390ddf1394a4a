"""Periodic jobs: expiry, SLA flags, reminders and triggers that depend on the clock.

A feature registers a job in its ``jobs.py`` with ``@periodic("name")``. A job takes ``now`` (an aware
datetime) and returns how many things it changed. Jobs must be idempotent and safe to run twice
concurrently (use conditional updates or ``select_for_update``), because ``covey worker`` runs the
sweep every minute and several workers may share one database.

Tests call ``run_jobs(now=…)`` with a controlled clock; operators can call ``covey tick``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

log = logging.getLogger(__name__)

Job = Callable[[datetime], int]
_JOBS: dict[str, Job] = {}


def periodic(name: str) -> Callable[[Job], Job]:
    def register(func: Job) -> Job:
        if name in _JOBS and _JOBS[name] is not func:
            raise ValueError(f"a periodic job named {name!r} is already registered")
        _JOBS[name] = func
        return func

    return register


def jobs() -> dict[str, Job]:
    autodiscover_modules("jobs")
    return dict(sorted(_JOBS.items()))


def run_jobs(now: datetime | None = None, *, only: str | None = None) -> dict[str, int]:
    """Run the jobs (all, or the one named ``only``) at ``now``; a failing job does not stop the others."""
    now = now or timezone.now()
    results: dict[str, int] = {}
    for name, job in jobs().items():
        if only and name != only:
            continue
        try:
            results[name] = job(now)
        except Exception:  # one broken job must not starve the rest; the log says which
            log.exception("periodic job %s failed", name)
            results[name] = -1
    return results
