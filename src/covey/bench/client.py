"""The load: N concurrent API clients, each with one keep-alive connection, sending its queue in order.

Two ways to pace it. Closed loop (the default): each client sends its next request as soon as the last
one answers, so the run finds the most the server sustains, and latency is mostly queueing behind the
other clients (by Little's law 32 clients at R/s wait 32/R s on average). Open loop (``rate``): the
requests are due at a fixed offered rate, spread over the clients in turn, and each latency is taken
from the moment the request was *due* — so a server that falls behind is charged for the wait its
clients could not help (no coordinated omission, as in wrk2). That is the latency a user sees at that
load.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import aiohttp

REQUEST_TIMEOUT = 30.0
WARM_UP_REQUESTS = 2  # per client, before the clock starts: opens the connection, warms each worker


@dataclass(frozen=True, slots=True)
class Outcome:
    client: int
    index: int  # position in the client's queue
    seconds: float  # latency
    http_status: int  # 0 when no answer came (connection error, timeout)
    status: str  # the registration's status from a 201, else ""
    error: str  # a short description of anything unexpected, else ""


@dataclass
class LoadResult:
    outcomes: list[Outcome]
    seconds: float  # wall time from the start signal to the last answer


async def _client(number: int, base_url: str, token: str, requests: list[tuple[str, str, bytes | None]],
                  warm_body: bytes | None, barrier: asyncio.Barrier, due: list[float] | None) -> list[Outcome]:
    """Send ``requests`` — (method, path, body) — in order. ``{last}`` in a path is the id of the
    client's last 201 (a detail or update of what it just created)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=1, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    out: list[Outcome] = []
    async with aiohttp.ClientSession(base_url, connector=connector, headers=headers, timeout=timeout) as session:
        try:
            await _warm_up(session, requests[0][1] if requests else "/api/me", warm_body)
            await barrier.wait()  # everyone is warm
            # Touch the connection again just before the start: a server may close keep-alive
            # connections left idle while the slower clients warm up.
            async with session.get("/api/me") as response:
                await response.read()
        except BaseException:
            await barrier.abort()
            raise
        await barrier.wait()  # the clock starts
        start = time.perf_counter()
        last = ""
        for index, (method, path, body) in enumerate(requests):
            began = time.perf_counter()
            if due is not None:
                wait = start + due[index] - began
                if wait > 0:
                    await asyncio.sleep(wait)
                began = start + due[index]  # late or not, the request was due then
            try:
                async with session.request(method, path.replace("{last}", last), data=body) as response:
                    payload = await response.read()
                    code = response.status
                elapsed = time.perf_counter() - began
            except (TimeoutError, aiohttp.ClientError) as exc:
                out.append(Outcome(number, index, time.perf_counter() - began, 0, "", f"{type(exc).__name__}: {exc}"[:200]))
                continue
            status, error = "", ""
            try:
                data = json.loads(payload)
            except ValueError:
                data = {}
            if code == 201 and isinstance(data, dict):
                status, last = str(data.get("status", "")), str(data.get("id", last))
            elif isinstance(data, dict):
                error = str(data.get("detail", ""))[:200]
            out.append(Outcome(number, index, elapsed, code, status, error))
    return out


async def _warm_up(session: aiohttp.ClientSession, path: str, warm_body: bytes | None) -> None:
    for _ in range(WARM_UP_REQUESTS):
        async with session.get("/api/me") as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"GET /api/me with the client's token answered {response.status}")
    if warm_body is not None:
        # The same path once with a domain that cannot be registered: a 422 that stores nothing
        # but loads what the first real request would (the public suffix list, the schemas).
        warm = json.loads(warm_body) | {"domain": "localhost"}
        async with session.post(path, data=json.dumps(warm).encode()) as response:
            await response.read()
            if response.status != 422:
                raise RuntimeError(f"the warm-up registration answered {response.status}, expected 422")


def schedule(queues: list[list], rate: float | None) -> list[list[float] | None]:
    """Offsets (seconds from the start) at which each client's requests are due: request k of the
    whole run — client k mod N, its (k div N)-th — is due at k / rate. None: closed loop."""
    if rate is None:
        return [None] * len(queues)
    n = len(queues)
    return [[(i * n + c) / rate for i in range(len(queue))] for c, queue in enumerate(queues)]


async def _drive(base_url: str, tokens: list[str], queues: list[list[tuple]], clock, rate: float | None,
                 warm: bool) -> LoadResult:
    barrier = asyncio.Barrier(len(queues) + 1)
    due = schedule(queues, rate)
    tasks = [
        asyncio.create_task(_client(i, base_url, tokens[i], queues[i], queues[i][0][2] if warm and queues[i] else None,
                                    barrier, due[i]))
        for i in range(len(queues))
    ]
    try:
        await barrier.wait()
        await barrier.wait()
    except asyncio.BrokenBarrierError:
        await asyncio.gather(*tasks, return_exceptions=True)
        failures = [t.exception() for t in tasks if not t.cancelled() and t.exception() is not None
                    and not isinstance(t.exception(), asyncio.BrokenBarrierError)]
        raise (failures[0] if failures else RuntimeError("a client failed while warming up")) from None
    began = time.perf_counter()
    clock("start")
    results = await asyncio.gather(*tasks)
    seconds = time.perf_counter() - began
    clock("end")
    return LoadResult(outcomes=[o for client in results for o in client], seconds=seconds)


def drive(base_url: str, tokens: list[str], queues: list[list[dict]], path: str = "/api/registrations",
          clock=lambda _event: None, rate: float | None = None) -> LoadResult:
    """Send every client's queue concurrently (closed loop, or open loop at ``rate`` requests/s);
    bodies are encoded before the clock starts. ``clock("start")`` and ``clock("end")`` are called
    as the timed part starts and ends."""
    encoded = [[("POST", path, json.dumps(body).encode()) for body in queue] for queue in queues]
    return asyncio.run(_drive(base_url, tokens, encoded, clock, rate, warm=True))


def drive_requests(base_url: str, tokens: list[str], queues: list[list[tuple[str, str, dict | None]]],
                   clock=lambda _event: None) -> LoadResult:
    """Like ``drive`` (closed loop) for queues of (method, path, JSON body or None), any mix."""
    encoded = [[(m, p, None if b is None else json.dumps(b).encode()) for m, p, b in queue] for queue in queues]
    return asyncio.run(_drive(base_url, tokens, encoded, clock, None, warm=False))
