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


def summed(blobs: list[bytes], groups: list[int], size: int) -> np.ndarray:
    """A ``size`` x ``BUCKETS`` array: histogram bytes ``blobs[i]`` added into row
    ``groups[i]``."""
    pairs = np.frombuffer(b"".join(blobs), dtype=PAIR).reshape(-1, 2)
    rows = np.repeat(np.array(groups, dtype=np.int64),
                     [len(blob) // (2 * PAIR.itemsize) for blob in blobs])
    flat = np.bincount(rows * BUCKETS + pairs[:, 0], weights=pairs[:, 1],
                       minlength=size * BUCKETS)
    return flat.astype(np.int64).reshape(size, BUCKETS)


def percentiles(histograms: np.ndarray, fractions) -> list[list[float | None]]:
    """``percentile_cont(f)`` for each ``f`` of the values each row of ``histograms`` counts,
    estimated (None without any value): each of the two nearest ranks' values placed evenly
    within its bucket, then interpolated between them."""
    histograms = np.atleast_2d(histograms)
    totals = histograms.sum(axis=1)
    cumulative = np.cumsum(histograms, axis=1)
    positions = np.array(fractions, dtype=float)[None, :] * (totals[:, None] - 1)
    lows = np.floor(positions)
    ranks = np.concatenate([lows, np.minimum(lows + 1, totals[:, None] - 1)], axis=1)
    index = np.minimum((cumulative[:, None, :] <= ranks[:, :, None]).sum(axis=2), BUCKETS - 1)
    counts = np.maximum(np.take_along_axis(histograms, index, axis=1), 1)
    before = np.take_along_axis(cumulative, index, axis=1) - counts
    low = np.where(index == 0, 0.0, RATIO ** (index - 1.0))
    high = np.where(index == 0, 1.0, RATIO ** index.astype(float))
    values = low + (high - low) * (ranks - before + 0.5) / counts
    width = len(fractions)
    found = values[:, :width] + (values[:, width:] - values[:, :width]) * (positions - lows)
    return [[float(v) for v in row] if total > 0 else [None] * width
            for row, total in zip(found, totals)]


def percentile(histogram: np.ndarray, fraction: float) -> float | None:
    return percentiles(histogram, (fraction,))[0][0]
