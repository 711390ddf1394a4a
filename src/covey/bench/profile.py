"""``covey bench registrations --profile N``: where one registration's time goes, in this process.

Sends requests straight into the WSGI application (no HTTP server, one thread), with the same
production settings as the served run, and reports: the SQL of one request per outcome (each
statement is a round trip to the database), the CPU milliseconds per request, and a cProfile of N
requests. It is the single-worker view that explains the served figures.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable

from rich.markup import escape

API_PATH = "/api/registrations"


def _caller(token: str) -> Callable[[bytes], tuple[int, dict]]:
    from covey.wsgi import application

    def post(body: bytes) -> tuple[int, dict]:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": API_PATH, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "HTTP_AUTHORIZATION": f"Bearer {token}", "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
        }
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = int(status.split()[0])

        chunks = application(environ, start_response)
        payload = b"".join(chunks)
        getattr(chunks, "close", lambda: None)()
        try:
            data = json.loads(payload)
        except ValueError:
            data = {}
        return answer["status"], data if isinstance(data, dict) else {}

    return post


def profile(tokens: list[str], queues: list[list[dict]], *, count: int, out=print) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    callers = [_caller(token) for token in tokens]
    order = [(c, json.dumps(queue[r]).encode()) for r in range(max(map(len, queues))) for c, queue in enumerate(queues)
             if r < len(queue)]
    warm, shown = order[:10], order[10:]
    for client, body in warm:
        callers[client](body)

    seen: set[str] = set()
    position = 0
    for position, (client, body) in enumerate(shown, start=1):
        with CaptureQueriesContext(connection) as captured:
            code, data = callers[client](body)
        outcome = f"{code} {data.get('status', data.get('code', ''))}"
        if outcome not in seen:
            seen.add(outcome)
            out(f"\n[bold]One POST {API_PATH} → {outcome}: {len(captured)} SQL statements[/bold] "
                "(BEGIN and COMMIT are round trips too; the e-mail task insert runs after commit)")
            for query in captured.captured_queries:
                out(escape(f"  {float(query['time']) * 1000:3.0f} ms  {query['sql'][:150]}"))
        if len(seen) >= 3 or position >= 300:
            break
    timed = shown[position: position + count]
    if not timed:
        out("No requests left to time; raise --size.")
        return
    began, cpu = time.perf_counter(), time.process_time()
    half = timed[: len(timed) // 2] or timed
    for client, body in half:
        callers[client](body)
    wall_ms = (time.perf_counter() - began) * 1000 / len(half)
    cpu_ms = (time.process_time() - cpu) * 1000 / len(half)
    out(f"\n[bold]Unprofiled, one thread: {wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU (this process) per request[/bold] "
        f"({len(half)} requests). A core gives at most {1000 / cpu_ms:.0f} requests/s at that CPU cost.")
    profiler = cProfile.Profile(time.process_time)  # CPU time: what limits throughput on two cores
    second = timed[len(half):] or timed
    profiler.enable()
    for client, body in second:
        callers[client](body)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(r"covey|ninja/operation|ninja/signature|pydantic|handlers/base|psycopg/connection", 40)
    if os.environ.get("COVEY_PROFILE_TOTTIME"):
        stats.sort_stats("tottime").print_stats(30)
    out(f"\n[bold]cProfile of {len(second)} requests (CPU seconds, cumulative; Covey and framework entry points)[/bold]")
    out(escape(text.getvalue().split("\n", 6)[-1]))
