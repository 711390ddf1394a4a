"""The background worker: the database task queue (django-tasks-db) plus the periodic jobs sweep.

``covey worker`` runs it in the foreground; ``covey serve`` and ``covey demo`` start one beside the
web server so a single machine needs nothing else. Several workers may share one database: tasks are
claimed with row locks, and periodic jobs are written to be idempotent.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

log = logging.getLogger(__name__)


def _enqueue_sweeps(interval: float, stop: threading.Event) -> None:
    from django.db import close_old_connections

    from covey.core.tasks import run_periodic_jobs

    while not stop.is_set():
        try:
            run_periodic_jobs.enqueue()
        except Exception:  # the database may be briefly unavailable; try again next round
            log.exception("could not enqueue the periodic jobs sweep")
        finally:
            close_old_connections()
        stop.wait(interval)


def run(*, interval: float = 60.0, jobs: bool = True) -> None:
    """Process queued tasks until interrupted, enqueueing the periodic sweep every ``interval`` seconds."""
    from django.core.management import call_command

    stop = threading.Event()
    if jobs:
        threading.Thread(target=_enqueue_sweeps, args=(interval, stop), daemon=True, name="covey-sweeps").start()
    try:
        call_command("db_worker", interval=1, reload=False, verbosity=0)
    finally:
        stop.set()


def start_background() -> subprocess.Popen:
    """``covey worker`` in a child process (used by ``covey serve``)."""
    return subprocess.Popen([sys.executable, "-m", "covey.cli", "worker"])
