"""Chart specs, drawn twice from the same data: by Chart.js in the browser (``config``) and as inline
SVG on the server for PDFs and pages without script (``svg``).

A spec is plain data: a kind ("bar", "hbar" or "pareto"), category labels, and series of values.
Money values are given in base-currency minor units and shown in major units; the conversion to a
number happens only here, for drawing (a chart axis needs no exactness, the tables beside it keep it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from covey.core.money import currency_exponent

PALETTE = ("#1f4b99", "#2f7d5b", "#b7791f", "#8e44ad", "#c0392b", "#16a085")


@dataclass
class Series:
    name: str
    values: list[int | Decimal | None]
    line: bool = False  # drawn as a line (Pareto's cumulative share, on the right-hand 0–100% axis)


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar", "hbar", "pareto"
    labels: list[str]
    series: list[Series] = field(default_factory=list)
    unit: str = "money"  # of the bars: "money", "count", "ratio"
    currency: str = "USD"

    def display(self, value) -> float | None:
        if value is None:
            return None
        if self.unit == "money":
            return float(Decimal(value).scaleb(-currency_exponent(self.currency)))
        if self.unit == "ratio":
            return float(Decimal(value) * 100)
        return float(value)

    def config(self) -> dict:
        """A Chart.js configuration (``new Chart(canvas, config)``)."""
        datasets = []
        for i, s in enumerate(self.series):
            colour = PALETTE[i % len(PALETTE)]
            ds = {"label": s.name, "data": [self.display(v) if not s.line else (None if v is None else float(Decimal(v) * 100))
                                           for v in s.values],
                  "backgroundColor": colour, "borderColor": colour}
            if s.line:
                ds.update({"type": "line", "yAxisID": "share", "fill": False, "pointRadius": 0})
            datasets.append(ds)
        scales: dict = {"y": {"beginAtZero": True, "title": {"display": True, "text": self.axis_title()}}}
        if self.kind == "pareto":
            scales["share"] = {"position": "right", "min": 0, "max": 100, "title": {"display": True, "text": "Cumulative %"}}
        options: dict = {"responsive": True, "maintainAspectRatio": False, "animation": False, "scales": scales,
                         "plugins": {"title": {"display": False}, "legend": {"position": "bottom"}}}
        if self.kind == "hbar":
            options["indexAxis"] = "y"
            options["scales"] = {"x": {"beginAtZero": True, "title": {"display": True, "text": self.axis_title()}}}
        return {"type": "bar", "data": {"labels": self.labels, "datasets": datasets}, "options": options}

    def axis_title(self) -> str:
        return {"money": self.currency, "ratio": "%", "count": "Count"}.get(self.unit, "")

    def svg(self, width: int = 680, height: int = 260) -> str:
        return render_svg(self, width, height)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _short(value: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}".replace(".0", "")
    return f"{value:.0f}"


def render_svg(chart: Chart, width: int, height: int) -> str:
    """The same chart as inline SVG: bars per series (grouped), a line for cumulative shares."""
    left, right, top, bottom = 56, 44 if chart.kind == "pareto" else 12, 12, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    bars = [s for s in chart.series if not s.line]
    lines = [s for s in chart.series if s.line]
    values = [chart.display(v) or 0.0 for s in bars for v in s.values]
    top_value = _nice_max(max(values, default=0.0))
    n = max(len(chart.labels), 1)
    group_w = plot_w / n
    bar_w = max(min(28.0, group_w * 0.8 / max(len(bars), 1)), 1.0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{escape(chart.title)}" font-family="sans-serif" font-size="10">',
           f"<title>{escape(chart.title)}</title>"]
    for i in range(5):
        frac = i / 4
        y = top + plot_h - frac * plot_h
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e2e6ee"/>')
        out.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{_short(top_value * frac)}</text>')
    for si, s in enumerate(bars):
        colour = PALETTE[si % len(PALETTE)]
        for ci, v in enumerate(s.values):
            value = chart.display(v) or 0.0
            h = plot_h * value / top_value
            x = left + ci * group_w + (group_w - bar_w * len(bars)) / 2 + si * bar_w
            label = escape(f"{s.name}, {chart.labels[ci]}: {_short(value)}")
            out.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{max(bar_w - 1, 0.5):.1f}" height="{h:.1f}" '
                       f'fill="{colour}"><title>{label}</title></rect>')
    for s in lines:
        points = []
        for ci, v in enumerate(s.values):
            if v is None:
                continue
            x = left + (ci + 0.5) * group_w
            y = top + plot_h - plot_h * float(Decimal(v))
            points.append(f"{x:.1f},{y:.1f}")
        out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#c0392b" stroke-width="2"/>')
        for i in range(5):
            y = top + plot_h - i / 4 * plot_h
            out.append(f'<text x="{left + plot_w + 4}" y="{y + 3:.1f}" fill="#c0392b">{i * 25}%</text>')
    step = max(1, n // 12)
    for ci, label in enumerate(chart.labels):
        if ci % step:
            continue
        x = left + (ci + 0.5) * group_w
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" fill="#333">{escape(label[:14])}</text>')
    lx = left
    for si, s in enumerate(chart.series):
        colour = "#c0392b" if s.line else PALETTE[si % len(PALETTE)]
        out.append(f'<rect x="{lx}" y="{height - 18}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{height - 9}" fill="#333">{escape(s.name)}</text>')
        lx += 24 + 6 * len(s.name)
    out.append("</svg>")
    return "".join(out)
