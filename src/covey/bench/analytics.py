"""The ``analytics`` workload: the program dashboard's metrics over the seeded data set.

Steps: migrate the bench database and seed it with ``covey seed``'s generator when it holds no
data set yet (``large``: 10,000 partners, 100,000 accounts, 1,000,000 opportunities; reused on later
runs) → compute every metric of the program dashboard for the last complete fiscal quarter, timed per
query stage and per metric → the peer: the naive per-row ORM loop (each deal of a sample read through
the ORM, its partner links fetched with one query per deal, classified and summed in Python with
``Decimal`` FX), timed on a slice of the deals and scaled to all of them → check the figures agree:
the set-based computation restricted to the same slice must give exactly the peer's numbers.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

CHECKED = ("sourced_pipeline", "sourced_revenue", "influenced_pipeline", "influenced_revenue", "sourced_revenue_share",
           "attach_rate", "win_rate_sourced", "win_rate_influenced", "win_rate_direct", "avg_deal_sourced",
           "avg_deal_influenced", "avg_deal_direct", "cycle_sourced", "cycle_direct")


@dataclass
class Options:
    size: object = "large"  # a name in demo.generator.SIZES, or a SeedSpec (tests)
    seed: int = 42
    peer: bool = True
    peer_sample: int = 50_000  # opportunity ids in the peer's slice
    timings: dict = field(default_factory=dict)


def _ensure_seeded(options: Options, progress) -> tuple[str, object]:
    from covey.bench.database import BenchError
    from covey.demo.generator import SIZES, describe, existing_seed, seed_database

    marker = existing_seed()
    wanted = options.size if isinstance(options.size, str) else options.size.name
    if marker is None:
        spec = SIZES[options.size] if isinstance(options.size, str) else options.size
        progress(f"Seeding the {wanted} data set ({spec.opportunities:,} opportunities)…")
        seed_database(size=spec, seed=options.seed)
        marker = existing_seed()
    elif marker.changes.get("size") != wanted:
        raise BenchError(f"The bench database holds the {describe(marker)}, not the {wanted} set; use another "
                         "--database-url or reseed it with covey seed --reset.")
    from datetime import date

    return wanted, date.fromisoformat(marker.changes["today"])


def _peer(f, cube_quarters) -> tuple[dict, float, int]:
    """The naive computation: every deal of the slice through the ORM, one query for its partners."""
    from django.utils import timezone

    from covey.analytics import metrics as M
    from covey.crm.models import Opportunity

    started = time.perf_counter()
    calendar_keys = {q.key: q for q in cube_quarters}
    fx = M.Converter.for_quarters(list(calendar_keys))
    period = f.period
    low, high = f.opportunity_ids
    won = defaultdict(lambda: [0, 0, 0])  # motion → [count, amount, cycle days]
    lost = defaultdict(int)
    pipeline = defaultdict(int)
    touched = 0
    calendar = M.VendorSettings.current().calendar

    for opp in Opportunity.objects.filter(pk__range=(low, high)).order_by("pk").iterator():
        created = timezone.localtime(opp.created_at).date()
        in_pipeline = period.start <= created <= period.end
        closed = opp.stage in (M.WON, M.LOST) and period.start <= opp.close_date <= period.end
        if not (in_pipeline or closed):
            continue
        touched += 1
        roles = list(opp.partner_links.values_list("role", flat=True))  # one query per deal: the naive way
        motion = "direct" if not roles else "sourced" if any(r in M.SOURCING_ROLES for r in roles) else "influenced"
        if in_pipeline:
            value = fx.to_base(opp.amount_minor, opp.currency, calendar.quarter_of(created).key)
            if value is not None:
                pipeline[motion] += value
        if closed:
            key = calendar.quarter_of(opp.close_date).key
            value = fx.to_base(opp.amount_minor, opp.currency, key)
            if value is None:
                continue
            if opp.stage == M.WON:
                w = won[motion]
                w[0] += 1
                w[1] += value
                w[2] += (opp.close_date - opp.created_at.astimezone(UTC).date()).days
            else:
                lost[motion] += 1
    total_won = sum(w[1] for w in won.values())
    out: dict = {
        "sourced_pipeline": pipeline["sourced"], "influenced_pipeline": pipeline["influenced"],
        "sourced_revenue": won["sourced"][1], "influenced_revenue": won["influenced"][1],
        "sourced_revenue_share": M.ratio(won["sourced"][1], total_won),
        "attach_rate": M.ratio(won["sourced"][0] + won["influenced"][0], sum(w[0] for w in won.values())),
    }
    for motion in M.MOTIONS:
        n, amount, cycle = won[motion]
        out[f"win_rate_{motion}"] = M.ratio(n, n + lost[motion])
        out[f"avg_deal_{motion}"] = M.per(amount, n)
        out[f"cycle_{motion}"] = None if not n else (Decimal(cycle) / n).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return out, time.perf_counter() - started, touched


def _in_play(f) -> int:
    """Deals created or closed in the period: what the peer would have to visit."""
    from django.db.models import Q

    from covey.analytics import metrics as M
    from covey.crm.models import Opportunity

    qs = Opportunity.objects.filter(
        Q(created_at__gte=M._aware(f.period.start), created_at__lt=M._aware(f.period.end + timedelta(days=1)))
        | Q(stage__in=(M.WON, M.LOST), close_date__range=(f.period.start, f.period.end)))
    if f.opportunity_ids:
        qs = qs.filter(pk__range=f.opportunity_ids)
    return qs.count()


def run(options: Options, *, progress=print) -> dict:
    from dataclasses import replace

    from django.db import connection
    from django.db.models import Max, Min

    from covey.analytics import metrics as M
    from covey.crm.models import Opportunity
    from covey.demo.generator import existing_seed  # noqa: F401  (fails early if the generator is broken)

    size, today = _ensure_seeded(options, progress)
    calendar = M.VendorSettings.current().calendar
    period = calendar.previous(calendar.quarter_of(today))  # the last complete quarter
    f = M.Filters(period=period)
    opportunities = Opportunity.objects.count()
    progress(f"Computing the program dashboard's metrics for {period.label} over {opportunities:,} opportunities…")

    stages: dict[str, float] = {}
    started = time.perf_counter()
    cube = M.build_cube(f, timings=stages)
    metric_seconds = {}
    values = {}
    for metric in M.METRICS.values():
        t = time.perf_counter()
        values[metric.key] = metric.compute(cube)
        metric_seconds[metric.key] = round(time.perf_counter() - t, 6)
    seconds = time.perf_counter() - started

    result = {
        "workload": "analytics", "size": size, "opportunities": opportunities, "period": period.key,
        "database": connection.vendor, "seconds": round(seconds, 3),
        "stages": {k: round(v, 3) for k, v in stages.items()}, "metric_seconds": metric_seconds,
        "figures": {k: (str(v) if v is not None else None) for k, v in values.items()},
        "missing_fx_rates": [f"{c} {q}" for c, q in cube.missing_rates],
        "peer": None, "peer_seconds": None, "ratio": None,
    }
    if options.peer:
        bounds = Opportunity.objects.aggregate(low=Min("pk"), high=Max("pk"))
        low = bounds["low"] or 0
        sample = replace(f, opportunity_ids=(low, low + options.peer_sample - 1))
        progress(f"Peer: the per-row ORM loop over opportunity ids {low:,}–{low + options.peer_sample - 1:,}…")
        peer_values, peer_seconds, touched = _peer(sample, cube.quarters)
        ours = M.compute_all(M.build_cube(sample), [M.METRICS[k] for k in CHECKED])
        mismatches = [{"metric": k, "covey": str(ours[k]), "peer": str(peer_values[k])}
                      for k in CHECKED if ours[k] != peer_values[k]]
        in_play = _in_play(f)
        scale = Decimal(in_play) / Decimal(max(touched, 1))
        scaled = float(Decimal(str(peer_seconds)) * scale)
        result.update({
            "peer": f"per-row ORM loop (one partner query per deal) on {touched:,} of {in_play:,} deals in play, scaled",
            "peer_seconds": round(scaled, 3), "peer_sample_seconds": round(peer_seconds, 3),
            "peer_sample_deals": touched, "deals_in_play": in_play,
            "ratio": round(scaled / seconds, 1) if seconds else None,
            "figures_agree": not mismatches, "mismatches": mismatches, "checked": list(CHECKED),
        })
    result["ok"] = result.get("figures_agree", True)
    return result
