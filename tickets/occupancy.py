"""The load an agent held over its capacity, integrated over its online spans.

Pure arithmetic over epoch seconds. The load at a moment is the sum of the weighted units of
the assignments open then (offers included: they hold capacity, as in routing); the capacity
is that of the online span the moment falls in (``tickets.agent_history.Span``). With ``L(t)``
the integral of the load since the first event, the load held during a span is
``L(end) - L(start)``: one sort of the assignments' starts and ends and a binary search per
span boundary, whatever the number of spans.
"""
from __future__ import annotations

from bisect import bisect_right

Held = tuple[float, float, float]  # start, end (epoch seconds), weighted units


def weighted_load(spans, held: list[Held]) -> float:
    """Seconds x load / capacity summed over ``spans`` (start, end, units; not overlapping)."""
    if not spans or not held:
        return 0.0
    integral = LoadIntegral(held)
    return sum((integral.at(span.end) - integral.at(span.start)) / span.units
               for span in spans)


class LoadIntegral:
    """``at(t)``: the integral of the load from the first event up to ``t``."""

    def __init__(self, held: list[Held]):
        steps = sorted([(start, units) for start, end, units in held if end > start]
                       + [(end, -units) for start, end, units in held if end > start])
        self.times: list[float] = []
        self.integrals: list[float] = []
        self.loads: list[float] = []
        total = load = 0.0
        for time, change in steps:
            if self.times:
                total += load * (time - self.times[-1])
            load += change
            self.times.append(time)
            self.integrals.append(total)
            self.loads.append(load)

    def at(self, moment: float) -> float:
        index = bisect_right(self.times, moment) - 1
        if index < 0:
            return 0.0
        return self.integrals[index] + self.loads[index] * (moment - self.times[index])
