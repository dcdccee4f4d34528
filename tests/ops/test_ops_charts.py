"""The ops dashboard's SVG chart geometry and duration labels (pure functions)."""
from __future__ import annotations

import math

import pytest

from gateway.ops.charts import bar_chart, duration, duration_ceiling, line_chart

LABELS = ["10:00", "11:00", "12:00", "13:00"]


@pytest.mark.parametrize("seconds, text", [(None, "—"), (math.inf, "∞"), (0, "0 s"),
                                           (0.25, "0.2 s"), (45, "45 s"), (90, "1.5 min"),
                                           (120.4, "2 min"), (720, "12 min"), (5400, "1.5 h"),
                                           (172800, "2 d")])
def test_durations_read_as_people_write_them(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize("largest, top", [(0, 4), (3, 4), (50, 60), (3000, 3600),
                                          (10 ** 9, 2764800)])
def test_the_duration_axis_ends_at_a_round_top(largest, top):
    assert duration_ceiling(largest) == top


def test_bars_are_proportional_to_their_values_and_missing_values_draw_nothing():
    chart = bar_chart(LABELS, [1800.0, None, 900.0, 0.0])
    full = chart.bottom - chart.top  # 1800 s -> the axis top is 1 h
    assert [round(bar.height, 1) for bar in chart.bars] == [round(full / 2, 1),
                                                            round(full / 4, 1), 1.0]
    assert chart.bars[0].title == "10:00: 30 min"
    assert [tick.label for tick in chart.y_ticks] == ["0 s", "15 min", "30 min", "45 min", "1 h"]
    assert [tick.label for tick in chart.x_labels] == ["10:00", "13:00"]


def test_a_marker_beyond_every_bucket_sits_at_the_top():
    chart = bar_chart(LABELS, [10.0, None, None, None], markers=[math.inf, None, None, 15.0])
    assert [m.y for m in chart.markers] == [chart.top, chart.bottom - (chart.bottom - chart.top)
                                            * 15 / 20]
    assert chart.markers[0].title == "10:00: p90 ∞"


def test_lines_break_where_a_value_is_missing():
    chart = line_chart(LABELS, [[1.0, None, 0.5, 0.25]])
    [series] = chart.lines
    assert [len(segment) for segment in series] == [1, 2]
    assert series[0][0].y == chart.top
    assert series[1][0].title == "12:00: 0.50"
