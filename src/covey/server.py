"""Run Covey under gunicorn, a production WSGI server (not Django's development server)."""

from __future__ import annotations

import os

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


def serve(*, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, threads: int = 4) -> None:
    workers = workers or int(os.environ.get("WEB_CONCURRENCY", min(4, (os.cpu_count() or 1) + 1)))
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 20,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }).run()
