"""Rate limits for public edges: a sliding window per key, kept in Redis (shared by all web
processes).

The window is approximated from two fixed windows (the current one, and the previous one
weighted by how much of it still overlaps), which is what Cloudflare and nginx-style limiters
do: one INCR and one GET per check, no per-request entries.
"""
from __future__ import annotations

import math
import time

from redis import Redis

RATE_KEY = "ticketgate:rate:"


def hit(redis: Redis, key: str, limit: int, window_s: int, now: float | None = None) -> float:
    """Count one request for ``key``; return 0 when allowed, else seconds until it would be."""
    now = time.time() if now is None else now
    window = int(now // window_s)
    current_key = f"{RATE_KEY}{key}:{window}"
    with redis.pipeline() as pipe:
        pipe.incr(current_key)
        pipe.expire(current_key, window_s * 2)
        pipe.get(f"{RATE_KEY}{key}:{window - 1}")
        current, _, previous = pipe.execute()
    overlap = 1.0 - (now % window_s) / window_s
    estimate = int(previous or 0) * overlap + current
    if estimate <= limit:
        return 0.0
    return float(max(1, math.ceil(window_s - now % window_s)))
