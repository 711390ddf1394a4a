"""The ecosystem map as SVG, drawn on the server from ``facts.Facts``: partner types (with their
regions) on the left, the company in the centre, customer segments on the right; a band per value
flow from each partner type to the company and from the company to each segment, its width in
proportion to the flow's pipeline or revenue (the widest band is the largest value on the map).
Gaps are drawn in red: a region chip with no active partner of the type, a segment missing a type."""

from __future__ import annotations

from html import escape

from covey.core.money import Money
from covey.core.vocab import Region, Segment
from covey.ecosystem.facts import FLOWS, NO_SEGMENT, Facts
from covey.partners.models import PartnerType

COLOURS = {"referrals": "#1f4b99", "resale": "#2f7d5b", "integrations": "#8e44ad", "services": "#b7791f"}
GAP = "#c0392b"
WIDTH, BOX_W, MAX_BAND, MIN_BAND = 1000, 280, 26.0, 1.5
REGION_SHORT = {"na": "NA", "latam": "LATAM", "emea": "EMEA", "apac": "APAC"}


def _money(minor: int, currency: str) -> str:
    return str(Money(int(minor), currency))


def _band(x1: float, y1: float, x2: float, y2: float, width: float, colour: str, title: str) -> str:
    mid = (x1 + x2) / 2
    return (f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" fill="none" '
            f'stroke="{colour}" stroke-opacity="0.7" stroke-width="{width:.1f}"><title>{escape(title)}</title></path>')


def svg(facts: Facts, company: str, measure: str = "pipeline") -> str:
    types = sorted(facts.partners, key=lambda t: PartnerType(t).label if t in PartnerType.values else t)
    segments = list(Segment.values) + ([NO_SEGMENT] if any(k[1] == NO_SEGMENT for k in facts.by_segment) else [])
    rows = max(len(types), len(segments), 1)
    top, row_h = 70, 84
    height = top + rows * row_h + 70
    cy = top + rows * row_h / 2
    values = [getattr(v, measure) for v in list(facts.by_type.values()) + list(facts.by_segment.values())]
    biggest = max(values, default=0) or 1

    def width_of(v: int) -> float:
        return MIN_BAND + (MAX_BAND - MIN_BAND) * v / biggest

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
           f'role="img" aria-label="Ecosystem map" font-family="DejaVu Sans, sans-serif" font-size="11">',
           f"<title>Ecosystem map, {escape(facts.period.label)} ({measure})</title>",
           f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
           f'<text x="20" y="24" font-size="15" font-weight="bold">{escape(company)} ecosystem, {escape(facts.period.label)}: '
           f'band widths are {"pipeline created" if measure == "pipeline" else "revenue won"}</text>']
    lx = 20
    for flow in FLOWS:
        total = getattr(facts.flows[flow], measure)
        label = f"{flow.capitalize()} {_money(total, facts.base)}"
        out.append(f'<rect x="{lx}" y="36" width="12" height="12" fill="{COLOURS[flow]}"/>'
                   f'<text x="{lx + 16}" y="46">{escape(label)}</text>')
        lx += 30 + 7 * len(label)
    cx, r = WIDTH / 2, 64
    # partner types → company
    for i, code in enumerate(types):
        y = top + i * row_h + 8
        label = PartnerType(code).label if code in PartnerType.values else code
        out.append(f'<rect x="20" y="{y}" width="{BOX_W}" height="{row_h - 16}" rx="6" fill="#f4f6fa" stroke="#c9d1e0"/>')
        out.append(f'<text x="30" y="{y + 18}" font-weight="bold">{escape(label)}</text>')
        gaps = {reg for reg, t in facts.region_gaps if t == code}
        for j, region in enumerate(Region.values):
            active, total = facts.partners[code].get(region, (0, 0))
            colour = GAP if region in gaps else ("#2f7d5b" if active else "#888")
            chip = f"{REGION_SHORT[region]} {active}/{total}"
            out.append(f'<text x="{30 + j * 66}" y="{y + 40}" fill="{colour}">{escape(chip)}'
                       f'<title>{escape(f"{Region(region).label}: {active} active of {total}")}</title></text>')
        if gaps:
            out.append(f'<text x="30" y="{y + 58}" fill="{GAP}" font-size="10">Gap: no active partner in '
                       f'{escape(", ".join(REGION_SHORT[g] for g in sorted(gaps)))}</text>')
        flows_here = [(f, getattr(facts.by_type.get((code, f)), measure, 0)) for f in FLOWS]
        for k, (flow, v) in enumerate(x for x in flows_here if x[1]):
            y1 = y + 16 + k * 12
            out.append(_band(20 + BOX_W, y1, cx - r, cy - 20 + k * 10, width_of(v), COLOURS[flow],
                             f"{label}, {flow}: {_money(v, facts.base)}"))
    # company → segments
    for i, code in enumerate(segments):
        y = top + i * row_h + 8
        label = Segment(code).label if code else "No segment on the account"
        x = WIDTH - 20 - BOX_W
        missing = sorted(t for s, t in facts.segment_gaps if s == code) if code else []
        out.append(f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{row_h - 16}" rx="6" fill="#f4f6fa" '
                   f'stroke="{GAP if missing else "#c9d1e0"}"/>')
        out.append(f'<text x="{x + 10}" y="{y + 18}" font-weight="bold">{escape(label)}</text>')
        seg_total = sum(getattr(facts.by_segment.get((f, code)), measure, 0) for f in FLOWS)
        out.append(f'<text x="{x + 10}" y="{y + 36}">{escape(_money(seg_total, facts.base))} through partners</text>')
        if missing:
            names = ", ".join(PartnerType(t).label if t in PartnerType.values else t for t in missing)
            out.append(f'<text x="{x + 10}" y="{y + 54}" fill="{GAP}" font-size="10">Gap: no active {escape(names[:60])}'
                       f'<title>{escape(names)}</title></text>')
        for k, flow in enumerate(f for f in FLOWS if getattr(facts.by_segment.get((f, code)), measure, 0)):
            v = getattr(facts.by_segment[(flow, code)], measure)
            out.append(_band(cx + r, cy - 20 + k * 10, x, y + 16 + k * 12, width_of(v), COLOURS[flow],
                             f"{label}, {flow}: {_money(v, facts.base)}"))
    out.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="#1f4b99"/>')
    out.append(f'<text x="{cx}" y="{cy + 4}" text-anchor="middle" fill="#fff" font-weight="bold" font-size="13">'
               f"{escape(company[:18])}</text>")
    out.append(f'<text x="20" y="{height - 36}">Active partners with no activity in the period: {len(facts.idle)} · '
               f"with no overlap (no deal ever, no account-mapping match): {len(facts.no_overlap)}</text>")
    if facts.missing_rates:
        out.append(f'<text x="20" y="{height - 18}" fill="{GAP}">Left out for want of an FX rate: '
                   f"{escape(', '.join(f'{c} {q}' for c, q in facts.missing_rates))}</text>")
    out.append("</svg>")
    return "".join(out)


def png(svg_text: str) -> bytes:
    import vl_convert

    return vl_convert.svg_to_png(svg_text, scale=2)
