"""Server-side SVG charts of the ops dashboard: the geometry is computed here (pure functions),
``templates/ops/charts.html`` draws it as inline SVG with a title, a description and the same
figures as a table, so no chart needs a script or a library and every chart has a text
alternative.

``bar_chart`` draws one bar per label, optionally with a marker per label (the wait chart's
p90); ``line_chart`` draws one line per series with gaps where a value is None.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 200  # SVG user units; the SVG scales to its box
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28  # margins around the plot area
X_LABEL_EVERY = 3  # label every third hour on the x axis
Y_TICKS = 4


@dataclass(frozen=True)
class Mark:
    """A bar (``height`` > 0) or a point (``height`` 0), with its tooltip."""
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Tick:
    at: float  # x of an x label, y of a y gridline
    label: str


@dataclass
class Chart:
    bars: list[Mark] = field(default_factory=list)
    markers: list[Mark] = field(default_factory=list)
    lines: list[list[list[Mark]]] = field(default_factory=list)  # series -> segments -> points
    y_ticks: list[Tick] = field(default_factory=list)
    x_labels: list[Tick] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def duration(seconds: float | None) -> str:
    """A short human duration: 0.2 s, 45 s, 1.5 min, 12 min, 3.5 h, 2 d; a dash for nothing."""
    if seconds is None:
        return "—"
    if math.isinf(seconds):
        return "∞"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or unit == "s":
            value = seconds / size
            text = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    return ""  # not reached


# Axis tops for durations: a quarter of each is a round figure (1 s, 5 s, 15 s, ..., 2 d).
DURATION_TOPS_S = (4, 20, 60, 120, 240, 600, 1200, 3600, 7200, 14400, 28800, 43200, 86400,
                   172800, 345600, 691200, 1382400, 2764800)


def duration_ceiling(value: float) -> float:
    """The smallest of ``DURATION_TOPS_S`` at or above ``value`` (the largest beyond them)."""
    return float(next((top for top in DURATION_TOPS_S if top >= value), DURATION_TOPS_S[-1]))


def _frame(labels: list[str], y_max: float, fmt) -> tuple[Chart, float]:
    chart = Chart()
    slot = (chart.right - chart.left) / max(1, len(labels))
    chart.x_labels = [Tick(chart.left + slot * (i + 0.5), label)
                      for i, label in enumerate(labels) if i % X_LABEL_EVERY == 0]
    chart.y_ticks = [Tick(_y(chart, y_max * i / Y_TICKS, y_max), fmt(y_max * i / Y_TICKS))
                     for i in range(Y_TICKS + 1)]
    return chart, slot


def _y(chart: Chart, value: float, y_max: float) -> float:
    return chart.bottom - (chart.bottom - chart.top) * min(value, y_max) / y_max


def bar_chart(labels: list[str], values: list[float | None], fmt=duration,
              markers: list[float | None] | None = None, describe=None,
              ceiling=duration_ceiling) -> Chart:
    """Bars of ``values`` and markers (a beyond-the-top value sits at the top); the y axis
    goes up to ``ceiling(largest finite value)``."""
    finite = [v for v in [*values, *(markers or [])] if v is not None and math.isfinite(v)]
    y_max = ceiling(max(finite, default=0.0))
    chart, slot = _frame(labels, y_max, fmt)
    describe = describe or (lambda i: f"{labels[i]}: {fmt(values[i])}")
    for i, value in enumerate(values):
        if value is None:
            continue
        top = _y(chart, value, y_max)
        chart.bars.append(Mark(chart.left + slot * (i + 0.15), top, slot * 0.7,
                               max(chart.bottom - top, 1.0), describe(i)))
    for i, value in enumerate(markers or []):
        if value is not None:
            chart.markers.append(Mark(chart.left + slot * (i + 0.5), _y(chart, value, y_max),
                                      0, 0, f"{labels[i]}: p90 {fmt(value)}"))
    return chart


def line_chart(labels: list[str], series: list[list[float | None]], y_max: float = 1.0,
               fmt=lambda v: f"{v:.2f}") -> Chart:
    """One polyline per series, split where a value is None."""
    chart, slot = _frame(labels, y_max, fmt)
    for values in series:
        segments: list[list[Mark]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                segments.append([])
                continue
            segments[-1].append(Mark(chart.left + slot * (i + 0.5), _y(chart, value, y_max),
                                     0, 0, f"{labels[i]}: {fmt(value)}"))
        chart.lines.append([s for s in segments if s])
    return chart
