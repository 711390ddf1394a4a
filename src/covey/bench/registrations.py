"""The ``registrations`` workload: concurrent deal registrations through the production server.

Steps: generate the plan → wipe and fill the bench database → start ``covey serve`` → drive the
clients → read owners per contested account back from the table → wipe the registrations and run
the psycopg peer on the same plan → figures. The bench process itself is configured (Django) for
the bench database; the server is a separate process with the same ``DATABASE_URL``.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from covey.bench import database, stats
from covey.bench.plan import EXPECTED, Plan, build_plan
from covey.server import THREADS

EXPECTED_STATUSES = frozenset({"submitted", "conflict", "rejected"})  # a 201 with any of these is fine
TARGETS = {"throughput_per_s": 300.0, "p99_ms": 100.0, "ratio": 0.3}


@dataclass
class Options:
    size: int = 3000
    clients: int = 32
    rate: float | None = None  # open loop at this offered rate (requests/s); None: closed loop
    conflict_share: float = 0.15
    seed: int = 1
    database_url: str = database.DEFAULT_URL
    workers: int = 2
    var_dir: Path = field(default_factory=lambda: Path("var") / "bench")
    peer: bool = True
    profile: int = 0  # >0: profile this many requests in-process instead of serving


def bodies_for(plan: Plan, product_public_ids: list[str], today: date) -> list[list[dict]]:
    def close(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    return [[sub.body(product_public_ids, close) for sub in queue] for queue in plan.queues()]


def _mismatches(plan: Plan, outcomes: list) -> Counter:
    """kind → how many answers differ from what the program's default rules should give."""
    queues = plan.queues()
    wrong: Counter = Counter()
    for o in outcomes:
        sub = queues[o.client][o.index]
        if o.http_status == 201 and o.status not in EXPECTED[sub.kind]:
            wrong[f"{sub.kind}→{o.status}"] += 1
    return wrong


def _owner_figures(contested: list[str]) -> dict:
    owners = database.owners_per_domain(contested)
    counts = [held for held, _ in owners.values()]
    return {
        "contested_accounts": len(contested),
        "max_owners_per_account": max(counts, default=0),
        "min_owners_per_account": min(counts, default=0),
        "accounts_without_one_owner": sum(1 for c in counts if c != 1),
    }


def _per_request_ms(seconds: float | None, outcomes: list) -> float | None:
    return round(seconds * 1000 / len(outcomes), 2) if seconds and outcomes else None


def run(options: Options, *, progress=print, out=print) -> dict | None:
    """Run the workload and return its figures (the JSON line's content); None after ``--profile``."""
    from django.db import connection

    from covey.bench.client import drive
    from covey.bench.server import running_server

    today = date.today()
    plan = build_plan(size=options.size, clients=options.clients, conflict_share=options.conflict_share, seed=options.seed)
    progress(f"Preparing {database.redact(options.database_url)}: migrate, wipe, load "
             f"{plan.partners} partners, {len(plan.accounts)} accounts, {options.clients} API clients…")
    database.migrate()
    database.wipe()
    loaded = database.load(plan, today=today)
    queues = bodies_for(plan, loaded.product_public_ids, today)
    if options.profile:
        from covey.bench.profile import profile

        profile(loaded.tokens, queues, count=options.profile, out=out)
        return None
    connection.close()  # the bench process holds no connection while the server works

    progress(f"Starting covey serve (Granian, {options.workers} workers × {THREADS} threads); "
             f"sending {plan.size} registrations from {plan.clients} clients…")
    cpu: dict[str, tuple] = {}
    load_average = os.getloadavg()[0]
    with running_server(database_url=options.database_url, var_dir=options.var_dir.resolve(),
                        workers=options.workers) as server:
        load = drive(server.url, loaded.tokens, queues, rate=options.rate, clock=lambda event: cpu.__setitem__(
            event, (server.cpu_seconds(), time.process_time(), stats.machine_cpu_seconds(),
                    stats.process_cpu_ticks("postgres"))))
    load_average = max(load_average, os.getloadavg()[0])
    server_cpu, client_cpu, machine_cpu = (
        (end - start) if start is not None and end is not None else None
        for start, end in zip(cpu["start"][:3], cpu["end"][:3], strict=True)
    )
    # PostgreSQL's own processes, when it runs on this machine (its connections stay open all run).
    database_cpu = stats.cpu_seconds_between(cpu["start"][3], cpu["end"][3])

    http = Counter(str(o.http_status) if o.http_status else "no answer" for o in load.outcomes)
    outcomes = Counter(o.status for o in load.outcomes if o.http_status == 201 and o.status in EXPECTED_STATUSES)
    unexpected = [o for o in load.outcomes if not (o.http_status == 201 and o.status in EXPECTED_STATUSES)]
    error_mix = Counter(
        f"{o.http_status or 'no answer'}{' ' + o.status if o.status else ''}" for o in unexpected
    )
    error_samples = sorted({f"{o.http_status}: {o.error or o.status}" for o in unexpected})[:5]
    contested = sorted(plan.contested)
    figures = _owner_figures(contested)
    stored = database.registration_count()

    result: dict = {
        "workload": "registrations",
        "size": plan.size,
        "clients": plan.clients,
        "pacing": "closed loop" if options.rate is None else f"open loop at {options.rate:g}/s",
        "offered_rate_per_s": options.rate,
        "seed": plan.seed,
        "conflict_share": plan.conflict_share,
        "workers": options.workers,
        "threads": THREADS,
        "seconds": round(load.seconds, 3),
        "throughput_per_s": stats.per_second(len(load.outcomes), load.seconds),
        **stats.latency_summary([o.seconds for o in load.outcomes]),
        "unexpected_errors": len(unexpected),
        "error_mix": dict(error_mix),
        "error_samples": error_samples,
        "http_statuses": dict(http),
        "outcomes": dict(outcomes),
        "plan_kinds": dict(plan.kinds()),
        "wrong_outcomes": dict(_mismatches(plan, load.outcomes)),
        "stored_registrations": stored,
        **figures,
        # How much CPU the server spent per registration: with two cores shared by the server,
        # PostgreSQL and the clients, this (not the wall clock) bounds the throughput.
        "server_cpu_ms_per_request": _per_request_ms(server_cpu, load.outcomes),
        # The load generator (this process), PostgreSQL's processes (when local) and everything on
        # the machine (the server, PostgreSQL, the clients and anything else running).
        "client_cpu_ms_per_request": _per_request_ms(client_cpu, load.outcomes),
        "database_cpu_ms_per_request": _per_request_ms(database_cpu, load.outcomes),
        "machine_cpu_ms_per_request": _per_request_ms(machine_cpu, load.outcomes),
        # Other work on the machine skews every timing; this says how busy it was (1-minute load).
        "load_average": round(load_average, 2),
    }

    if options.peer:
        progress("Peer ceiling: the same checks and insert straight through psycopg…")
        from covey.bench import peer

        database.clear_registrations()
        sql = peer.build_sql()
        peer.warm()
        connection.close()
        product_ids = dict(zip(loaded.product_public_ids, loaded.product_ids, strict=True))
        peer_run = peer.run_peer(database.conninfo(options.database_url), sql, queues,
                                 partner_ids=loaded.partner_ids, user_ids=loaded.user_ids, product_ids=product_ids)
        peer_figures = _owner_figures(contested)
        peer_errors = [o for o in peer_run.outcomes if o.error]
        peer_throughput = stats.per_second(len(peer_run.outcomes), peer_run.seconds)
        peer_latency = stats.latency_summary([o.seconds for o in peer_run.outcomes])
        result.update({
            "peer": "psycopg-direct",
            "peer_seconds": round(peer_run.seconds, 3),
            "peer_throughput_per_s": peer_throughput,
            "peer_p50_ms": peer_latency["p50_ms"],
            "peer_p99_ms": peer_latency["p99_ms"],
            "peer_cpu_ms_per_request": round(peer_run.cpu_seconds * 1000 / max(len(peer_run.outcomes), 1), 2),
            "peer_database_cpu_ms_per_request": _per_request_ms(peer_run.database_cpu_seconds, peer_run.outcomes),
            "peer_outcomes": dict(Counter(o.status for o in peer_run.outcomes if not o.error)),
            "peer_errors": len(peer_errors),
            "peer_max_owners_per_account": peer_figures["max_owners_per_account"],
            "peer_min_owners_per_account": peer_figures["min_owners_per_account"],
            "peer_accounts_without_one_owner": peer_figures["accounts_without_one_owner"],
            "ratio": round(result["throughput_per_s"] / peer_throughput, 3) if peer_throughput else 0.0,
        })
    else:
        result.update({"peer": "none", "peer_seconds": 0.0, "peer_throughput_per_s": 0.0, "ratio": 0.0})

    result["one_owner_per_account"] = result["accounts_without_one_owner"] == 0
    result["targets_met"] = {
        "throughput_per_s": result["throughput_per_s"] >= TARGETS["throughput_per_s"],
        "p99_ms": result["p99_ms"] <= TARGETS["p99_ms"],
        "ratio": result["ratio"] >= TARGETS["ratio"],
        "unexpected_errors": result["unexpected_errors"] == 0,
        "one_owner_per_account": result["one_owner_per_account"],
    }
    result["ok"] = result["unexpected_errors"] == 0 and result["one_owner_per_account"]
    return result
