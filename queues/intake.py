"""The one place that enqueues: raw input in, raw payload + RQ job in Redis out, atomically.

An edge calls ``Intake.accept`` and acknowledges its sender only when it returns. The raw bytes
and the job go to Redis in one atomic round trip (one script, ``queues.atomic``; Redis, with its
AOF, is the durability boundary of the queue anyway); the worker moves the raw bytes into the
blob store before it does anything else. If Redis is unavailable ``IntakeUnavailable`` is raised and the edge answers with
its protocol's *retry later* (SMTP 451, HTTP 503), so nothing acknowledged is ever lost.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry

from queues import metrics
from queues.atomic import Writes, atomic_script
from queues.channels import CHANNEL_QUEUES
from queues.rq_jobs import JobWriter

ENVELOPE_VERSION = 1
INGEST_JOB = "workers.ingest.job.ingest"
JOB_TIMEOUT_S = 60              # seconds one ingest job (a batch of envelopes) may take
RESULT_TTL_S = 600              # keep a finished job's result this long (debugging)
FAILURE_TTL_S = 30 * 24 * 3600  # keep failed jobs a month so they can be replayed
# Backoff between attempts, in seconds: covers a database outage of about two hours before a job
# lands in the failed registry (from where `python -m queues.replay failed` re-runs it). The
# first retry is immediate: it needs no scheduler, whose lock a killed worker's scheduler keeps
# for another 61 s, so a job abandoned by a killed worker runs again within seconds.
RETRY_INTERVALS_S = [0, 1, 2, 5, 10, 30, 60, 120, 300, 300, 600, 600, 900, 900, 1200]
RAW_KEY = "ticketgate:raw:"     # + sha256: raw payload waiting for a worker to store it
RAW_TTL_S = FAILURE_TTL_S       # a raw payload lives as long as a failed job that needs it


class IntakeUnavailable(RuntimeError):
    """The event could not be made durable; the sender must retry later."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def make_envelope(channel: str, workspace: str, account: str, raw_ref: str, size: int,
                  meta: dict | None = None) -> dict:
    return {"v": ENVELOPE_VERSION, "channel": channel, "workspace": workspace,
            "account": account, "raw_ref": raw_ref, "size": size,
            "received_at": now_iso(), "meta": meta or {}}


def ingest_retry() -> Retry:
    """Every ingest job carries it: RQ re-queues a job abandoned by a killed worker only then."""
    return Retry(max=len(RETRY_INTERVALS_S), interval=RETRY_INTERVALS_S)


def enqueue_envelopes(redis: Redis, channel: str, envelopes: list[dict],
                      job_timeout: int = JOB_TIMEOUT_S, pipeline=None, queue: Queue | None = None,
                      job_id: str | None = None):
    """Put one ingest job for ``envelopes`` on the channel's queue (idempotent downstream),
    with RQ's own ``enqueue_call``; returns the ``Job``.

    With ``pipeline`` the job is written when the caller executes it. ``job_id`` names the
    halves of a split batch (``workers.ingest.poison``). The edges' hot path writes the same
    job without RQ's ``Job`` object (``ingest_job_writer``).
    """
    queue = queue or Queue(channel, connection=redis)
    return queue.enqueue_call(INGEST_JOB, args=(envelopes,), retry=ingest_retry(),
                              timeout=job_timeout, result_ttl=RESULT_TTL_S,
                              failure_ttl=FAILURE_TTL_S, pipeline=pipeline, job_id=job_id)


def ingest_job_writer(channel: str, job_timeout: int = JOB_TIMEOUT_S) -> JobWriter:
    """Writes the ingest jobs ``enqueue_envelopes`` would enqueue on ``channel``'s queue."""
    return JobWriter(channel, INGEST_JOB, job_timeout, RESULT_TTL_S, FAILURE_TTL_S,
                     ingest_retry())


def describe(envelopes: list[dict]) -> str:
    """An ingest job's RQ description: the function and the size of its batch."""
    return f"{INGEST_JOB}(<{len(envelopes)} envelope(s)>)"


@dataclass(frozen=True)
class Submission:
    """One raw input an edge wants made durable."""
    channel: str
    workspace: str
    account: str
    raw: bytes
    meta: dict = field(default_factory=dict)


class Intake:
    def __init__(self, redis: Redis, job_timeout: int = JOB_TIMEOUT_S):
        self.redis = redis
        self.job_timeout = job_timeout
        self.writers = {name: ingest_job_writer(name, job_timeout) for name in CHANNEL_QUEUES}
        self.script = atomic_script(redis)

    def accept(self, channel: str, workspace: str, account: str, raw: bytes,
               meta: dict | None = None) -> dict:
        """Make ``raw`` and its job durable in Redis; return the envelope (with the job id)."""
        return self.accept_many([Submission(channel, workspace, account, raw, meta or {})])[0]

    def accept_many(self, submissions: list[Submission],
                    marks: list[tuple[str, int]] = ()) -> list[dict]:
        """One Redis transaction for all: raw payloads, one ingest job per channel, counters,
        and ``marks`` ((key, ttl_s): replay guards remembered exactly when enqueued)."""
        envelopes = [make_envelope(s.channel, s.workspace, s.account,
                                   hashlib.sha256(s.raw).hexdigest(), len(s.raw), s.meta)
                     for s in submissions]
        by_channel: dict[str, list[dict]] = {}
        for envelope in envelopes:
            by_channel.setdefault(envelope["channel"], []).append(envelope)
        try:
            writes = Writes(self.script)  # one atomic script, as a MULTI/EXEC would be
            jobs = {channel: self.writers[channel].write(writes, (batch,), describe(batch))
                    for channel, batch in by_channel.items()}
            for submission, envelope in zip(submissions, envelopes):
                writes.set(RAW_KEY + envelope["raw_ref"], submission.raw, ex=RAW_TTL_S)
            for channel, batch in by_channel.items():
                writes.hincrby(metrics.METRICS_KEY, f"received|{channel}", len(batch))
            for key, ttl_s in marks:
                writes.set(key, 1, ex=ttl_s)
            writes.execute()
        except RedisError as exc:
            raise IntakeUnavailable(f"redis: {exc}") from exc
        for envelope in envelopes:
            envelope["job_id"] = jobs[envelope["channel"]]
        return envelopes
