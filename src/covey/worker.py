"""The background worker: the database task queue (django-tasks-db), the e-mail outbox and the
periodic jobs sweep.

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

EMAIL_INTERVAL = 2.0  # seconds between looks at the e-mail outbox


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


def _send_emails(interval: float, stop: threading.Event) -> None:
    """Send pending notification e-mails every ``interval`` seconds: someone is waiting on them."""
    from django.db import close_old_connections

    from covey.core.notify import DELIVERY_BATCH, deliver_pending_emails

    while not stop.is_set():
        try:
            while deliver_pending_emails() == DELIVERY_BATCH:
                pass
        except Exception:  # the database may be briefly unavailable; try again next round
            log.exception("could not send pending e-mails")
        finally:
            close_old_connections()
        stop.wait(interval)


def run(*, interval: float = 60.0, jobs: bool = True) -> None:
    """Process queued tasks and send e-mails until interrupted, enqueueing the periodic sweep every
    ``interval`` seconds."""
    from django.core.management import call_command

    stop = threading.Event()
    threading.Thread(target=_send_emails, args=(EMAIL_INTERVAL, stop), daemon=True, name="covey-emails").start()
    if jobs:
        threading.Thread(target=_enqueue_sweeps, args=(interval, stop), daemon=True, name="covey-sweeps").start()
    try:
        call_command("db_worker", interval=1, reload=False, verbosity=0)
    finally:
        stop.set()


def start_background() -> subprocess.Popen:
    """``covey worker`` in a child process (used by ``covey serve``)."""
    return subprocess.Popen([sys.executable, "-m", "covey.cli", "worker"])
