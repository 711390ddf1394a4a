"""Start and stop the production server (``covey serve``: Granian) for a benchmark run."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from covey.bench.database import BenchError

READY_TIMEOUT = 240.0  # collectstatic on a cold var dir plus the server's boot, on a busy shared machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(*, database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of a production deployment on loopback, without TLS in front."""
    env = dict(os.environ)
    env.update({
        "COVEY_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; a proxy terminates TLS in real life
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "COVEY_VAR_DIR": str(var_dir),
        "SITE_URL": "http://127.0.0.1",
        # The worker is not running, so queued e-mails stay queued; nothing may reach an SMTP server.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    })
    env.pop("WEB_CONCURRENCY", None)
    return env


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500  # 401 from /api/me: the app is up
    except OSError:
        return False


class Server:
    """A running ``covey serve``: its base URL and the CPU time its processes have used."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server's main process and workers so far (None without Linux's /proc)."""
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        total, found = 0, False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == self.pid or ppid == self.pid:
                total += int(fields[11]) + int(fields[12])  # utime, stime
                found = True
        return total / tick if found else None


@contextmanager
def running_server(*, database_url: str, var_dir: Path, workers: int, port: int | None = None, worker: bool = False):
    """Yield a ``Server`` for ``covey serve --no-migrate`` on loopback (``port``, else a free one),
    without its background worker unless ``worker`` (the periodic sweep a freshness check needs)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = var_dir / "server.log"
    command = [
        sys.executable, "-m", "covey.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-migrate", *([] if worker else ["--no-worker"]),
    ]
    with open(log_path, "wb") as log:
        # Its own process group, so stopping it also stops the server's workers.
        process = subprocess.Popen(
            command, env=server_env(database_url=database_url, var_dir=var_dir), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not _answers(f"{base}/api/me"):
            if process.poll() is not None:
                raise BenchError(f"The server exited with code {process.returncode} before answering:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise BenchError(f"The server did not answer within {READY_TIMEOUT:.0f} s:\n{_tail(log_path)}")
            time.sleep(0.2)
        yield Server(base, process.pid)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=25)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"
