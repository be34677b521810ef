"""The dashboard's "checkouts per minute" bar chart as inline-SVG geometry (no script, no
library): the template draws the rectangles this computes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WIDTH = 600
HEIGHT = 160
BOTTOM = 20  # room for the axis labels
TOP = 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    minute: str
    count: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    peak: int
    total: int
    first: str
    last: str


def per_minute_chart(series: list[tuple[datetime, int]]) -> Chart:
    """Bars scaled to the busiest minute; an empty hour draws a flat baseline."""
    peak = max((count for _, count in series), default=0)
    plot = HEIGHT - BOTTOM - TOP
    slot = WIDTH / max(len(series), 1)
    bars = []
    for i, (at, count) in enumerate(series):
        height = plot * count / peak if peak else 0.0
        bars.append(Bar(x=round(i * slot + 1, 2), y=round(TOP + plot - height, 2),
                        width=round(max(slot - 2, 1), 2), height=round(height, 2),
                        minute=at.strftime("%H:%M"), count=count))
    return Chart(width=WIDTH, height=HEIGHT, baseline=HEIGHT - BOTTOM, bars=bars, peak=peak,
                 total=sum(count for _, count in series),
                 first=bars[0].minute if bars else "", last=bars[-1].minute if bars else "")
