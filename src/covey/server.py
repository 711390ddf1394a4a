"""Run Covey under gunicorn, a production WSGI server (not Django's development server)."""

from __future__ import annotations

import os
import subprocess

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from covey.wsgi import application

        return application


def serve(
    *, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, threads: int = 4,
    background_worker: bool = True, accesslog: str | None = "-",
) -> None:
    """Serve with gunicorn; unless told not to, also run ``covey worker`` (task queue + periodic jobs)
    in a child process for as long as the server runs."""
    workers = workers or int(os.environ.get("WEB_CONCURRENCY", min(4, (os.cpu_count() or 1) + 1)))
    child = None
    if background_worker:
        from covey.worker import start_background

        child = start_background()
    try:
        _run_gunicorn(host=host, port=port, workers=workers, threads=threads, accesslog=accesslog)
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def _run_gunicorn(*, host: str, port: int, workers: int, threads: int, accesslog: str | None) -> None:
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        # One listening socket per worker (SO_REUSEPORT): the kernel spreads new connections over the
        # workers. With one shared socket, a single worker can end up owning every keep-alive
        # connection (from a proxy or API client) while the others idle.
        "reuse_port": True,
        "accesslog": accesslog,
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 20,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }).run()
