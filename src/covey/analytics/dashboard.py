"""What the dashboards show: the metric values and the chart specs, both from one ``Cube``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from covey.analytics import metrics as M
from covey.analytics.charts import Chart, Series
from covey.crm.models import Stage

LEADERBOARD_SIZE = 10
PARETO_BARS = 40


@dataclass
class Figure:
    metric: M.Metric
    value: int | Decimal | None


@dataclass
class Dashboard:
    cube: M.Cube
    figures: list[Figure]
    charts: list[Chart]
    leaderboard: list[tuple[object, int, int]]  # (partner, sourced revenue, revenue on) — vendor only


def build(filters: M.Filters, *, for_vendor: bool) -> Dashboard:
    from covey.partners.models import Partner

    cube = M.build_cube(filters)
    metrics = [m for m in M.METRICS.values() if for_vendor or m.for_partners]
    values = M.compute_all(cube, metrics)
    figures = [Figure(m, values[m.key]) for m in metrics]
    base = cube.base
    labels = [q.label for q in cube.quarters]
    motions = M.MOTIONS if for_vendor else M.PARTNER_MOTIONS
    charts = [
        Chart("trend", "Revenue won by quarter", "bar", labels,
              [Series(f"{m.capitalize()}", [cube.total("won", (m,), [q.key]).amount for q in cube.quarters]) for m in motions],
              currency=base),
        Chart("pipeline_trend", "Pipeline created by quarter", "bar", labels,
              [Series(f"{m.capitalize()}", [cube.total("pipeline", (m,), [q.key]).amount for q in cube.quarters])
               for m in motions], currency=base),
    ]
    stages = [s.value for s in Stage]
    charts.append(Chart("funnel", f"Pipeline created in {filters.period.label}, by stage now", "hbar", stages,
                        [Series(m.capitalize(), [cube.funnel.get((m, s), M.Bucket()).amount for s in stages]) for m in motions],
                        currency=base))
    charts.append(Chart("win_rates", "Win rate by motion", "bar", [m.capitalize() for m in motions],
                        [Series("Win rate", [values.get(f"win_rate_{m}") for m in motions])], unit="ratio", currency=base))
    leaderboard: list[tuple[object, int, int]] = []
    if for_vendor:
        ranked = sorted(cube.partner_revenue.items(), key=lambda kv: (-kv[1], kv[0]))
        top_ids = [pid for pid, _ in sorted(cube.partner_sourced.items(), key=lambda kv: (-kv[1], kv[0]))[:LEADERBOARD_SIZE]]
        names = dict(Partner.objects.filter(pk__in=top_ids + [pid for pid, _ in ranked[:PARETO_BARS]])
                     .values_list("id", "name"))
        partners = {p.pk: p for p in Partner.objects.filter(pk__in=top_ids)}
        leaderboard = [(partners[pid], cube.partner_sourced[pid], cube.partner_revenue.get(pid, 0)) for pid in top_ids]
        charts.append(Chart("leaderboard", "Top partners by sourced revenue", "hbar", [p.name for p, _, _ in leaderboard],
                            [Series("Sourced revenue", [s for _, s, _ in leaderboard])], currency=base))
        total = sum(v for _, v in ranked if v > 0)
        running, cumulative = 0, []
        for _, v in ranked[:PARETO_BARS]:
            running += v
            cumulative.append(M.ratio(running, total))
        charts.append(Chart("pareto", f"Revenue by partner (top {min(PARETO_BARS, len(ranked))} of {len(ranked)}), "
                            "cumulative share of all partner revenue", "pareto",
                            [names.get(pid, "?") for pid, _ in ranked[:PARETO_BARS]],
                            [Series("Revenue on", [v for _, v in ranked[:PARETO_BARS]]),
                             Series("Cumulative share", cumulative, line=True)], currency=base))
    return Dashboard(cube, figures, charts, leaderboard)
