"""A grouped bar chart as plain geometry, drawn as inline SVG by the comparison page.

Server-rendered SVG needs no script and no asset from anywhere: it prints, works without JavaScript
and reads in a screen reader through its title and the table beside it. Values are shares of the
best score (0–1) so criteria on different scales sit on one axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

PALETTE = ("#1f4b99", "#2f7d5b", "#b7791f", "#8e44ad", "#c0392b", "#16a085")
WIDTH, HEIGHT = 720, 260
LEFT, BOTTOM, TOP = 40, 56, 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # "Globex: 4.5 of 5"


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Group:
    x: float  # centre, for the category label
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    groups: list[Group]
    ticks: list[Tick]
    legend: list[tuple[str, str]]  # (colour, name)
    baseline: float
    left: int


def grouped_bars(categories: list[str], series: list[tuple[str, list[Decimal | None]]], *,
                 captions: list[list[str]] | None = None) -> Chart:
    """One group per category, one bar per series; values are 0–1 (None draws no bar)."""
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    baseline = TOP + plot_h
    n_groups, n_series = max(len(categories), 1), max(len(series), 1)
    group_w = plot_w / n_groups
    bar_w = min(28.0, group_w * 0.8 / n_series)
    bars: list[Bar] = []
    for s_index, (name, values) in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        for c_index, value in enumerate(values):
            if value is None:
                continue
            share = max(min(float(value), 1.0), 0.0)
            height = share * plot_h
            x = LEFT + c_index * group_w + (group_w - bar_w * n_series) / 2 + s_index * bar_w
            caption = captions[s_index][c_index] if captions else f"{round(share * 100)}%"
            bars.append(Bar(round(x, 1), round(baseline - height, 1), round(bar_w - 2, 1), round(height, 1), colour,
                            f"{name}, {categories[c_index]}: {caption}"))
    groups = [Group(round(LEFT + (i + 0.5) * group_w, 1), label) for i, label in enumerate(categories)]
    ticks = [Tick(round(baseline - f * plot_h, 1), f"{int(f * 100)}%") for f in (0, 0.25, 0.5, 0.75, 1)]
    legend = [(PALETTE[i % len(PALETTE)], name) for i, (name, _) in enumerate(series)]
    return Chart(WIDTH, HEIGHT, bars, groups, ticks, legend, baseline, LEFT)
