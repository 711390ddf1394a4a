"""The ROI chart: per partner (or program) the MDF cost, the pipeline and the won revenue it brought,
as grouped bars drawn by the lifecycle's server-rendered SVG geometry. Bars are shares of the
largest figure in one currency (a chart never mixes currencies: the largest group's currency wins
and the others are listed beside it)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from covey.core.money import Money
from covey.lifecycle.chart import Chart, grouped_bars
from covey.mdf.selectors import Summary


def roi_chart(summaries: list[Summary]) -> tuple[Chart | None, str, list[str]]:
    """(chart, its currency, currencies left out) — no chart without data."""
    if not summaries:
        return None, "", []
    currency = Counter(s.currency for s in summaries).most_common(1)[0][0]
    shown = [s for s in summaries if s.currency == currency][:12]
    others = sorted({s.currency for s in summaries} - {currency})
    top = max(max(s.roi.cost_minor, s.roi.pipeline_minor, s.roi.won_minor) for s in shown) or 1
    series, captions = [], []
    for name, attr in (("MDF cost", "cost_minor"), ("Pipeline", "pipeline_minor"), ("Won revenue", "won_minor")):
        values = [getattr(s.roi, attr) for s in shown]
        series.append((name, [Decimal(v) / Decimal(top) for v in values]))
        captions.append([Money(v, currency).plain() for v in values])
    return grouped_bars([s.label[:18] for s in shown], series, captions=captions), currency, others
