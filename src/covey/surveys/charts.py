"""The NPS trend across campaigns: a line on a −100…100 axis, as Chart.js config and as inline SVG
(the analytics bar renderer draws from zero upwards, and an NPS is often negative)."""

from __future__ import annotations

from html import escape

from covey.surveys.nps import Tally


def trend_config(points: list[tuple[str, Tally]]) -> dict:
    return {"type": "line", "data": {"labels": [label for label, _ in points], "datasets": [{
        "label": "NPS", "data": [None if t.nps is None else float(t.nps) for _, t in points],
        "borderColor": "#1f4b99", "backgroundColor": "#1f4b99", "spanGaps": True}]},
        "options": {"responsive": True, "maintainAspectRatio": False, "animation": False,
                    "scales": {"y": {"min": -100, "max": 100, "title": {"display": True, "text": "NPS"}}},
                    "plugins": {"legend": {"display": False}}}}


def trend_svg(points: list[tuple[str, Tally]], width: int = 680, height: int = 240) -> str:
    left, right, top, bottom = 44, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(points), 1)

    def y_of(v: float) -> float:
        return top + plot_h * (100 - v) / 200

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="NPS by campaign" font-family="sans-serif" font-size="10"><title>NPS by campaign</title>']
    for v in (-100, -50, 0, 50, 100):
        out.append(f'<line x1="{left}" y1="{y_of(v):.1f}" x2="{left + plot_w}" y2="{y_of(v):.1f}" '
                   f'stroke="{"#999" if v == 0 else "#e2e6ee"}"/>')
        out.append(f'<text x="{left - 4}" y="{y_of(v) + 3:.1f}" text-anchor="end" fill="#555">{v}</text>')
    coords = []
    for i, (label, t) in enumerate(points):
        x = left + (i + 0.5) * plot_w / n
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" fill="#333">{escape(label[:16])}</text>')
        if t.nps is not None:
            coords.append((x, y_of(float(t.nps)), f"{label}: {t.nps} ({t.total} answers)"))
    if coords:
        out.append('<polyline fill="none" stroke="#1f4b99" stroke-width="2" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords) + '"/>')
    for x, y, label in coords:
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f4b99"><title>{escape(label)}</title></circle>')
    out.append("</svg>")
    return "".join(out)
