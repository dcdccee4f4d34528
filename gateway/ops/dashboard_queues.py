"""The queue side of the ops dashboard, read from Redis: for every queue (``queues.replay.QUEUES``:
the channel queues and outbound) its depth, failed jobs, live workers and rates, and the newest
jobs of each failed registry with the last line of their error.

Workers come from RQ's worker registry (``Worker.all``), which drops a worker whose key expired:
one that stopped sending heartbeats (killed) no longer counts as alive.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from rq import Queue, Worker
from rq.exceptions import DeserializationError
from rq.job import Job

from gateway.ops import queue_rates
from queues import metrics
from queues.channels import CHANNEL_QUEUES
from queues.replay import QUEUES

FAILED_SHOWN = 20  # newest failed jobs listed per queue
MAX_ERROR = 300  # characters of an error line shown


@dataclass(frozen=True)
class WorkerRow:
    name: str
    state: str  # idle, busy, suspended, ...
    current_job: str
    jobs_done: int
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class QueueRow:
    name: str
    depth: int
    failed: int
    workers: list[WorkerRow]
    rate: queue_rates.Rate


@dataclass(frozen=True)
class FailedJob:
    queue: str
    id: str
    function: str
    ended_at: datetime | None
    error: str


def queue_rows(redis: Redis) -> list[QueueRow]:
    workers = {name: live_workers(redis, name) for name in QUEUES}
    received = metrics.read_all(redis)
    sample = queue_rates.Sample(
        t=time.time(),
        accepted={q: received.get(f"received|{q}", 0.0) for q in CHANNEL_QUEUES},
        jobs={w.name: [q, w.jobs_done] for q, rows in workers.items() for w in rows})
    rates = queue_rates.rates(redis, sample, list(QUEUES))
    rows = []
    for name in QUEUES:
        queue = Queue(name, connection=redis)
        rows.append(QueueRow(name, queue.count,
                             queue.failed_job_registry.get_job_count(cleanup=False),
                             workers[name], rates[name]))
    return rows


def live_workers(redis: Redis, queue_name: str) -> list[WorkerRow]:
    rows = []
    for worker in Worker.all(queue=Queue(queue_name, connection=redis)):
        rows.append(WorkerRow(worker.name, str(worker.get_state()),
                              worker.get_current_job_id() or "",
                              (worker.successful_job_count or 0) + (worker.failed_job_count or 0),
                              worker.last_heartbeat))
    return sorted(rows, key=lambda w: w.name)


def failed_jobs(redis: Redis, limit: int = FAILED_SHOWN) -> list[FailedJob]:
    """The newest ``limit`` failed jobs of every queue."""
    out = []
    for name in QUEUES:
        registry = Queue(name, connection=redis).failed_job_registry
        ids = registry.get_job_ids(0, limit - 1, desc=True, cleanup=False)
        for job_id, job in zip(ids, Job.fetch_many(ids, connection=redis)):
            if job is not None:
                out.append(FailedJob(name, job_id, _function(job), job.ended_at, _error(job)))
    return out


def _function(job: Job) -> str:
    try:
        return job.func_name
    except DeserializationError:  # a job whose data cannot be read still gets a row
        return "?"


def _error(job: Job) -> str:
    result = job.latest_result()
    text = (result.exc_string if result is not None else "") or ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:MAX_ERROR] if lines else ""
