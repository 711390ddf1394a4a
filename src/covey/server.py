"""Run Covey under Granian, a production HTTP server (not Django's development server).

Granian parses HTTP and manages connections in Rust and hands each request to the WSGI app on a pool
of threads per worker process. We chose it over gunicorn's threaded workers because the per-request
cost of the server itself decides throughput on small machines: on the 2-core target, ``covey bench
registrations`` measured about 3.6 ms of server CPU per registration under Granian against 5.0 ms
under gunicorn (gthread), for 300+ against about 210 registrations a second.
"""

from __future__ import annotations

import os
import subprocess

THREADS = 4  # per worker: requests wait on the database, so a few threads keep a core busy


def serve(
    *, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, threads: int = THREADS,
    background_worker: bool = True, access_log: bool = False,
) -> None:
    """Serve until interrupted; unless told not to, also run ``covey worker`` (task queue, e-mail
    outbox, periodic jobs) in a child process for as long as the server runs."""
    if access_log:  # the workers' request middleware writes the line, with the request id
        from django.conf import settings

        os.environ["ACCESS_LOG"] = "true"  # for workers that start afresh…
        settings.ACCESS_LOG = True  # …and for those forked from this process
    workers = workers or int(os.environ.get("WEB_CONCURRENCY", min(4, os.cpu_count() or 1)))  # one per core
    child = None
    if background_worker:
        from covey.worker import start_background

        child = start_background()
    try:
        _run_granian(host=host, port=port, workers=workers, threads=threads)
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def _run_granian(*, host: str, port: int, workers: int, threads: int) -> None:
    from django.conf import settings
    from granian import Granian
    from granian.constants import Interfaces

    from covey.core.logs import granian_config

    Granian(
        "covey.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        websockets=False,
        log_access=False,  # the access line comes from covey.core.logs, which knows the request id
        log_dictconfig=granian_config(settings.LOG_FORMAT),
        respawn_failed_workers=True,  # a worker that dies (out of memory, say) is replaced
        workers_kill_timeout=20,  # a worker still busy 20 s after shutdown began is stopped
    ).serve()
