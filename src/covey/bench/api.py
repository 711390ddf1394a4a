"""The ``api`` workload: a mixed run of reads and writes through tokens against the production server.

Partner reps (three clients in four) submit a registration, read it back, list their registrations
and search them; vendor sellers (the rest) page through accounts, read one, change its industry and
list partners. Every answer must be a 2xx. The peer does the same reads and writes straight through
psycopg (no HTTP, no Django) at the same concurrency, on the same data: the least any implementation
of these requests can cost, so ``ratio`` says how much of that ceiling the API reaches.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from covey.bench import database, stats
from covey.bench.plan import build_plan
from covey.server import THREADS

PARTNER_ROUND = ("create registration", "registration detail", "list registrations", "search registrations")
VENDOR_ROUND = ("list accounts", "account detail", "update account", "list partners")
PAGE = 20


@dataclass
class Options:
    rounds: int = 25  # per client; each round is four requests
    clients: int = 16
    seed: int = 1
    database_url: str = database.DEFAULT_URL
    workers: int = 2
    var_dir: Path = field(default_factory=lambda: Path("var") / "bench")
    peer: bool = True


@dataclass
class Work:
    """Per client: its token, whom it acts for, and its queue of (kind, method, path, body)."""

    tokens: list[str]
    partner_ids: list[int | None]  # None for a vendor client
    user_ids: list[int]
    queues: list[list[tuple[str, str, str, dict | None]]]
    product_ids: dict[str, int]


def _vendor_clients(clients: int) -> int:
    return max(1, clients // 4) if clients > 1 else 0


def build_work(options: Options, today: date) -> Work:
    """Wipe and fill the bench database, then lay out every client's queue (deterministic per seed)."""
    from covey.bench.registrations import bodies_for
    from covey.core.models import ApiToken, User
    from covey.crm.models import Account

    vendors = _vendor_clients(options.clients)
    partners = options.clients - vendors
    plan = build_plan(size=max(partners * options.rounds, 1), clients=max(partners, 1), conflict_share=0.0,
                      seed=options.seed)
    database.migrate()
    database.wipe()
    loaded = database.load(plan, today=today)
    bodies = bodies_for(plan, loaded.product_public_ids, today)
    seller = User.objects.get(email="sales@bench-vendor.example")
    accounts = list(Account.objects.order_by("id").values_list("public_id", flat=True)[:500])
    rng = random.Random(options.seed)
    queues: list[list] = []
    for client in range(partners):
        queue = []
        for r in range(options.rounds):
            body = bodies[client][r]
            queue += [
                (PARTNER_ROUND[0], "POST", "/api/registrations", body),
                (PARTNER_ROUND[1], "GET", "/api/registrations/{last}", None),
                (PARTNER_ROUND[2], "GET", f"/api/registrations?limit={PAGE}", None),
                (PARTNER_ROUND[3], "GET", f"/api/registrations?limit={PAGE}&q={body['domain'][:4]}", None),
            ]
        queues.append(queue)
    for _client in range(vendors):
        queue = []
        for r in range(options.rounds):
            account = rng.choice(accounts)
            queue += [
                (VENDOR_ROUND[0], "GET", f"/api/accounts?limit={PAGE}&offset={rng.randrange(0, 200)}", None),
                (VENDOR_ROUND[1], "GET", f"/api/accounts/{account}", None),
                (VENDOR_ROUND[2], "PATCH", f"/api/accounts/{account}", {"industry": f"Industry {r % 7}"}),
                (VENDOR_ROUND[3], "GET", f"/api/partners?limit={PAGE}", None),
            ]
        queues.append(queue)
    vendor_tokens = [ApiToken.issue(user=seller, name="covey bench api")[1] for _ in range(vendors)]
    return Work(
        tokens=loaded.tokens[:partners] + vendor_tokens,
        partner_ids=loaded.partner_ids[:partners] + [None] * vendors,
        user_ids=loaded.user_ids[:partners] + [seller.pk] * vendors,
        queues=queues,
        product_ids=dict(zip(loaded.product_public_ids, loaded.product_ids, strict=True)),
    )


# --- the psycopg peer ------------------------------------------------------------------------


def peer_sql() -> dict[str, str]:
    """Statement texts for the reads and the update (the create reuses ``peer.register``)."""
    from covey.crm.models import Account
    from covey.partners.models import Partner
    from covey.registrations.models import Registration

    def cols(model) -> str:
        return ", ".join(f't."{f.column}"' for f in model._meta.concrete_fields)

    reg, acc, par = Registration._meta.db_table, Account._meta.db_table, Partner._meta.db_table
    return {
        "registration detail": f'SELECT {cols(Registration)} FROM "{reg}" t WHERE t."public_id" = %s AND t."partner_id" = %s',
        "list registrations": f'SELECT {cols(Registration)} FROM "{reg}" t WHERE t."partner_id" = %s '
                              f'ORDER BY t."submitted_at" DESC, t."id" DESC LIMIT {PAGE}',
        "count registrations": f'SELECT count(*) FROM "{reg}" t WHERE t."partner_id" = %s',
        "search registrations": f'SELECT {cols(Registration)} FROM "{reg}" t WHERE t."partner_id" = %s AND '
                                f'(t."company_name" ILIKE %s OR t."domain" ILIKE %s) ORDER BY t."submitted_at" DESC, t."id" DESC LIMIT {PAGE}',
        "count search": f'SELECT count(*) FROM "{reg}" t WHERE t."partner_id" = %s AND (t."company_name" ILIKE %s OR t."domain" ILIKE %s)',
        "list accounts": f'SELECT {cols(Account)} FROM "{acc}" t ORDER BY t."name", t."id" LIMIT {PAGE} OFFSET %s',
        "count accounts": f'SELECT count(*) FROM "{acc}" t',
        "account detail": f'SELECT {cols(Account)} FROM "{acc}" t WHERE t."public_id" = %s',
        "update account": f'UPDATE "{acc}" SET "industry" = %s, "updated_at" = now() WHERE "public_id" = %s',
        "list partners": f'SELECT {cols(Partner)} FROM "{par}" t ORDER BY t."name", t."id" LIMIT {PAGE}',
        "count partners": f'SELECT count(*) FROM "{par}" t',
    }


def _peer_request(conn, sql: dict, reg_sql, kind: str, path: str, body, *, work: Work, client: int, last: str) -> str:
    """One request's worth of SQL in its own transaction; returns the id a create made (else ``last``)."""
    from urllib.parse import parse_qs, urlsplit

    from covey.bench.peer import register

    partner = work.partner_ids[client]
    query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
    with conn.transaction(), conn.cursor() as cur:
        if kind == "create registration":
            return register(conn, reg_sql, body, partner_id=partner, user_id=work.user_ids[client],
                            product_ids=work.product_ids)[1]
        if kind == "registration detail":
            cur.execute(sql[kind], [last, partner]).fetchall()
        elif kind == "list registrations":
            cur.execute(sql[kind], [partner]).fetchall()
            cur.execute(sql["count registrations"], [partner]).fetchone()
        elif kind == "search registrations":
            like = f"%{query['q']}%"
            cur.execute(sql[kind], [partner, like, like]).fetchall()
            cur.execute(sql["count search"], [partner, like, like]).fetchone()
        elif kind == "list accounts":
            cur.execute(sql[kind], [int(query["offset"])]).fetchall()
            cur.execute(sql["count accounts"]).fetchone()
        elif kind == "account detail":
            cur.execute(sql[kind], [path.rsplit("/", 1)[1]]).fetchall()
        elif kind == "update account":
            cur.execute(sql[kind], [body["industry"], path.rsplit("/", 1)[1]])
        elif kind == "list partners":
            cur.execute(sql[kind]).fetchall()
            cur.execute(sql["count partners"]).fetchone()
    return last


def run_peer(conninfo: str, work: Work) -> tuple[list[tuple[str, float, str]], float]:
    """(kind, seconds, error) per request and the wall time, one thread and connection per client."""
    import psycopg

    from covey.bench.peer import build_sql

    sql, reg_sql = peer_sql(), build_sql()
    connections = [psycopg.connect(conninfo) for _ in work.queues]
    for conn in connections:
        conn.execute("SELECT 1")
        conn.commit()
    start = threading.Barrier(len(work.queues) + 1)
    results: list[list] = [[] for _ in work.queues]

    def run(client: int) -> None:
        conn, out, last = connections[client], results[client], ""
        start.wait()
        for kind, _method, path, body in work.queues[client]:
            began = time.perf_counter()
            try:
                last = _peer_request(conn, sql, reg_sql, kind, path, body, work=work, client=client, last=last)
                out.append((kind, time.perf_counter() - began, ""))
            except psycopg.Error as exc:
                out.append((kind, time.perf_counter() - began, f"{type(exc).__name__}: {exc}"[:200]))

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(work.queues))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    for conn in connections:
        conn.close()
    return [o for out in results for o in out], seconds


# --- the run ---------------------------------------------------------------------------------


def _per_kind(samples: list[tuple[str, float]]) -> dict[str, dict]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for kind, seconds in samples:
        grouped[kind].append(seconds)
    return {kind: {"requests": len(v), **stats.latency_summary(v)} for kind, v in sorted(grouped.items())}


def run(options: Options, *, progress=print) -> dict:
    from django.db import connection

    from covey.bench.client import drive_requests
    from covey.bench.peer import warm
    from covey.bench.server import running_server

    progress(f"Preparing {database.redact(options.database_url)}: migrate, wipe, load partners, accounts and "
             f"{options.clients} API clients…")
    work = build_work(options, date.today())
    connection.close()
    total = sum(len(q) for q in work.queues)
    progress(f"Starting covey serve ({options.workers} workers × {THREADS} threads); sending {total} requests "
             f"from {options.clients} clients…")
    load_average = os.getloadavg()[0]
    http_queues = [[(method, path, body) for _kind, method, path, body in queue] for queue in work.queues]
    with running_server(database_url=options.database_url, var_dir=options.var_dir.resolve(),
                        workers=options.workers) as server:
        load = drive_requests(server.url, work.tokens, http_queues)
    load_average = max(load_average, os.getloadavg()[0])
    kinds = [[kind for kind, *_ in queue] for queue in work.queues]
    samples = [(kinds[o.client][o.index], o.seconds) for o in load.outcomes]
    errors = [o for o in load.outcomes if not 200 <= o.http_status < 300]
    error_mix = Counter(f"{kinds[o.client][o.index]}: {o.http_status or 'no answer'}" for o in errors)
    result: dict = {
        "workload": "api",
        "clients": options.clients,
        "partner_clients": options.clients - _vendor_clients(options.clients),
        "vendor_clients": _vendor_clients(options.clients),
        "rounds": options.rounds,
        "requests": len(load.outcomes),
        "workers": options.workers,
        "threads": THREADS,
        "seed": options.seed,
        "seconds": round(load.seconds, 3),
        "throughput_per_s": stats.per_second(len(load.outcomes), load.seconds),
        **stats.latency_summary([o.seconds for o in load.outcomes]),
        "per_kind": _per_kind(samples),
        "errors": len(errors),
        "error_mix": dict(error_mix),
        "error_samples": sorted({f"{o.http_status}: {o.error}" for o in errors})[:5],
        "load_average": round(load_average, 2),
    }
    if options.peer:
        progress("Peer: the same reads and writes straight through psycopg…")
        database.clear_registrations()
        warm()
        connection.close()
        outcomes, seconds = run_peer(database.conninfo(options.database_url), work)
        peer_errors = [o for o in outcomes if o[2]]
        peer_throughput = stats.per_second(len(outcomes), seconds)
        result.update({
            "peer": "psycopg-direct",
            "peer_seconds": round(seconds, 3),
            "peer_throughput_per_s": peer_throughput,
            **{f"peer_{k}": v for k, v in stats.latency_summary([o[1] for o in outcomes]).items()},
            "peer_errors": len(peer_errors),
            "peer_error_samples": sorted({o[2] for o in peer_errors})[:5],
            "ratio": round(result["throughput_per_s"] / peer_throughput, 3) if peer_throughput else 0.0,
        })
    else:
        result.update({"peer": "none", "peer_throughput_per_s": 0.0, "ratio": 0.0})
    result["ok"] = result["errors"] == 0 and result.get("peer_errors", 0) == 0
    return result
