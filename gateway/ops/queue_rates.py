"""Per-queue rates for the ops dashboard, from samples of cumulative counters kept in Redis.

Every dashboard view (any web process) adds a sample at most every ``SAMPLE_EVERY_S``: the time,
the messages accepted so far per channel (the ``received`` counter of ``queues.metrics``) and
the jobs done so far per live worker (RQ keeps a successful and a failed count per worker). A
rate is the change from the oldest sample between ``MIN_SPAN_S`` and ``MAX_SPAN_S`` old to now,
per minute; a worker that appeared since counts all its jobs, one that died is left out. Until
a sample is old enough (the first minute of watching) the rates are unknown (None).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from redis import Redis

SAMPLES_KEY = "ticketgate:ops:rate_samples"
SAMPLE_EVERY_S = 15.0
KEEP_SAMPLES = 80  # about 20 minutes at one sample per 15 s
SAMPLES_TTL_S = 3600  # nobody watching for an hour: the samples go
MIN_SPAN_S, MAX_SPAN_S = 55.0, 900.0


@dataclass
class Sample:
    t: float  # Unix time
    accepted: dict[str, float] = field(default_factory=dict)  # queue -> messages accepted
    jobs: dict[str, list] = field(default_factory=dict)  # worker name -> [queue, jobs done]


@dataclass(frozen=True)
class Rate:
    accepted_per_min: float | None  # None: unknown yet, or not a channel queue
    done_per_min: float | None


def rates(redis: Redis, now: Sample, queues: list[str]) -> dict[str, Rate]:
    """Record ``now`` (when due) and return each queue's rates since an old enough sample."""
    samples = [s for s in map(_load, redis.lrange(SAMPLES_KEY, 0, -1)) if s is not None]
    if not samples or now.t - samples[0].t >= SAMPLE_EVERY_S:
        with redis.pipeline(transaction=False) as pipe:
            pipe.lpush(SAMPLES_KEY, json.dumps(now.__dict__))
            pipe.ltrim(SAMPLES_KEY, 0, KEEP_SAMPLES - 1)
            pipe.expire(SAMPLES_KEY, SAMPLES_TTL_S)
            pipe.execute()
    base = next((s for s in reversed(samples) if MIN_SPAN_S <= now.t - s.t <= MAX_SPAN_S), None)
    if base is None:
        return {queue: Rate(None, None) for queue in queues}
    minutes = (now.t - base.t) / 60.0
    done = jobs_done_since(base, now)
    return {queue: Rate(_per_min(now.accepted, base.accepted, queue, minutes),
                        done.get(queue, 0) / minutes) for queue in queues}


def _load(raw: bytes) -> Sample | None:
    try:
        return Sample(**json.loads(raw))
    except (ValueError, TypeError):  # not a sample of this version: ignored, soon trimmed
        return None


def _per_min(now: dict, then: dict, queue: str, minutes: float) -> float | None:
    if queue not in now:
        return None
    return max(0.0, now[queue] - then.get(queue, 0.0)) / minutes


def jobs_done_since(base: Sample, now: Sample) -> dict[str, int]:
    """queue -> jobs its live workers finished since ``base``."""
    done: dict[str, int] = {}
    for name, (queue, count) in now.jobs.items():
        before = base.jobs.get(name, [queue, 0])[1]
        done[queue] = done.get(queue, 0) + max(0, count - before)
    return done
