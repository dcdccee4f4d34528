"""Jain's fairness index, used by the simulator's report and the live routing metrics."""
from __future__ import annotations


def jain(values: list[float]) -> float | None:
    """(sum x)^2 / (n sum x^2): 1 when every x is equal, 1/n when one x has everything; None
    when every x is 0 (nothing to share)."""
    squares = sum(v * v for v in values)
    return (sum(values) ** 2) / (len(values) * squares) if squares else None
