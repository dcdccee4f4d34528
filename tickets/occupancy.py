"""An agent's occupancy: the time-weighted mean of its load over its capacity while online.

Pure arithmetic over epoch seconds. The load at a moment is the sum of the weighted units of
the assignments open then (offers included: they hold capacity, as in routing); the capacity
is that of the online span the moment falls in (``tickets.agent_history.Span``). With ``L(t)``
the integral of the load since the first event, the load held during a span is
``L(end) - L(start)``: one sort of the assignments' starts and ends and a binary search per
span boundary, whatever the number of spans.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

Held = tuple[float, float, float]  # start, end (epoch seconds), weighted units


@dataclass(frozen=True)
class Occupancy:
    online_s: float
    ratio: float | None  # None: never online with capacity in the range


def occupancy(spans, held: list[Held]) -> Occupancy:
    """``spans``: the agent's online spans (start, end, units), not overlapping."""
    integral = LoadIntegral(held)
    online = sum(span.end - span.start for span in spans)
    if online <= 0:
        return Occupancy(0.0, None)
    weighted = sum((integral.at(span.end) - integral.at(span.start)) / span.units
                   for span in spans)
    return Occupancy(online, weighted / online)


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
