"""Log-spaced histogram buckets of seconds, for the report rollup (``tickets.report_fold``).

Bucket 0 holds ``[0, 1)`` s; bucket ``b >= 1`` holds ``[RATIO**(b-1), RATIO**b)``, each 2 %
wider than the one before; the last bucket also takes everything above (about 21 years). A
percentile estimated from the buckets (:func:`percentile`, ``percentile_cont``'s definition:
linear interpolation between the two nearest ranks, each rank's value placed by its rank
within its bucket) lies within 2 % of the exact one, or within 1 s below one second: the
exact value and its estimate share the bucket. Counts and sums are kept exactly beside.

A histogram travels as bytes: little-endian int32 pairs ``(bucket, count)`` of the non-empty
buckets; in memory it is a numpy array of ``BUCKETS`` counts.
"""
from __future__ import annotations

import math

import numpy as np

RATIO = 1.02    # each bucket's upper bound over its lower one: the estimates' relative error
BUCKETS = 1024  # bucket 1023 starts at RATIO**1022 s, about 21 years
_LOG_RATIO = math.log(RATIO)
PAIR = np.dtype("<i4")


def bucket(seconds: float) -> int:
    if seconds < 1.0:
        return 0
    return min(BUCKETS - 1, 1 + int(math.log(seconds) / _LOG_RATIO))


def bounds(index: int) -> tuple[float, float]:
    if index == 0:
        return 0.0, 1.0
    return RATIO ** (index - 1), RATIO ** index


def empty() -> np.ndarray:
    return np.zeros(BUCKETS, dtype=np.int64)


def encode(counts: dict[int, int]) -> bytes:
    """The non-empty buckets of ``{bucket: count}`` as bytes."""
    pairs = sorted((b, c) for b, c in counts.items() if c)
    return np.array(pairs, dtype=PAIR).tobytes() if pairs else b""


def decode(blob: bytes | None) -> dict[int, int]:
    pairs = np.frombuffer(blob or b"", dtype=PAIR).reshape(-1, 2)
    return dict(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist()))


def add_into(histogram: np.ndarray, blob: bytes | None) -> None:
    """Add the bytes' counts into a histogram array."""
    if blob:
        pairs = np.frombuffer(blob, dtype=PAIR).reshape(-1, 2)
        histogram[pairs[:, 0]] += pairs[:, 1]  # each bucket once in a blob (encode)


def percentile(histogram: np.ndarray, fraction: float) -> float | None:
    """``percentile_cont(fraction)`` of the values counted, estimated; None without any."""
    total = int(histogram.sum())
    if total <= 0:
        return None
    cumulative = np.cumsum(histogram)
    position = fraction * (total - 1)
    low = math.floor(position)
    high = min(low + 1, total - 1)
    at_low = _value_at_rank(histogram, cumulative, low)
    at_high = _value_at_rank(histogram, cumulative, high)
    return at_low + (at_high - at_low) * (position - low)


def _value_at_rank(histogram: np.ndarray, cumulative: np.ndarray, rank: int) -> float:
    """The ``rank``-th smallest value (from 0), placed evenly within its bucket."""
    index = int(np.searchsorted(cumulative, rank, side="right"))
    count = int(histogram[index])
    before = int(cumulative[index]) - count
    low, high = bounds(index)
    return low + (high - low) * (rank - before + 0.5) / count
