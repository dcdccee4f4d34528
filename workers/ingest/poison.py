"""Jobs that die: split the batch in halves until the message that kills it stands alone.

Some messages kill their job without an exception we could catch per message: RQ's job timeout
(raised inside the job, for the job), the kernel's OOM killer, a SIGKILL, a crash in C code.
RQ re-queues such a job (it is enqueued with ``Retry``) and would kill the worker again and
again, every other message of the batch with it, until the job lands in the failed registry.

So every ingest job counts its attempts in Redis (``ATTEMPTS_KEY`` + job id): an attempt that
starts increments the count, one that finishes (or fails with an ordinary, transient exception
that RQ retries) deletes it. An attempt that finds a count left over knows the previous one
died, and instead of running the batch again it enqueues its two halves as new jobs (same
queue, timeout and ``Retry``) and finishes. The half without the culprit is stored at once; the
other dies and splits again. A message alone in its job that killed it ``LONE_DEATHS`` times is
quarantined with reason ``poison`` (raw kept, replayable).

The split is idempotent under repeated crashes: both halves and the note that the split was
done are written in one Redis transaction, so a re-run after a crash in between either splits
(nothing was written) or finds the note and finishes.

A job that claimed further queued jobs into its batch (``workers.ingest.drain``) counts their
attempts too: when it dies, each of them is re-queued by RQ and, having died once, runs alone.
A job with any attempt record (it died, or it is the half of a split) claims nothing and is
never claimed, so halves are never merged again.

RQ's job timeout is handled at once, without waiting for RQ to notice a dead worker: a batch
splits right away, a lone message keeps its count and lets RQ retry it. Any other exception
that escaped the per-message isolation (``workers.ingest.isolation``) splits the batch too, and
quarantines a lone message as ``error``; so does a transient failure that outlasted all of the
job's retries (a remote file server down for hours): customer input never ends in the failed
registry, unless the store itself stays down.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from rq import Queue
from rq.job import Job

from queues.intake import JOB_TIMEOUT_S, RAW_KEY, enqueue_envelopes
from workers.ingest import drain, isolation, phases
from workers.ingest.batch import Item, store_items
from workers.ingest.drain import ATTEMPTS_KEY, ATTEMPTS_TTL_S, Absorbed
from workers.ingest.pipeline import Quarantine
from workers.ingest.raw_payload import load_raw
from queues.runtime import Runtime

log = logging.getLogger(__name__)
LONE_DEATHS = 2  # a message alone in its job is quarantined `poison` after killing it this often

Work = Callable[[Runtime, list[dict]], list[str]]


@dataclass
class Attempt:
    """One run of an ingest job: its attempt count's key and the jobs it claimed."""
    rt: Runtime
    job: Job
    key: str
    absorbed: Absorbed = field(default_factory=Absorbed)


def guarded(rt: Runtime, job: Job | None, envelopes: list[dict], work: Work) -> list[str]:
    """Run ``work(rt, envelopes)`` as RQ job ``job``, splitting or quarantining what kills it.

    A job without an attempt record (it never died and is no half of a split) first claims
    the fresh jobs queued behind it (``workers.ingest.drain``): one batch with its own.
    """
    if job is None:  # called directly (tests, tools): nothing to count
        return work(rt, envelopes)
    attempt = Attempt(rt, job, ATTEMPTS_KEY + job.id)
    with phases.record(lambda: len(envelopes) + len(attempt.absorbed.envelopes)):
        return _guarded(attempt, envelopes, work)


def _guarded(attempt: Attempt, envelopes: list[dict], work: Work) -> list[str]:
    rt, job = attempt.rt, attempt.job
    with phases.phase("claim"):
        deaths, split, recorded = _start_attempt(rt, attempt.key)
        if not recorded:
            attempt.absorbed = drain.claim(rt.redis, job, len(envelopes))
    try:
        outcomes = _run(attempt, deaths, split, envelopes + attempt.absorbed.envelopes, work)
    except BaseException as exc:
        transient = isinstance(exc, Exception) and isolation.is_transient(exc)
        if transient:
            rt.redis.delete(attempt.key)  # an ordinary failure, not a death: RQ retries the job
        _give_back(attempt, died=not transient)
        raise
    return outcomes[:len(envelopes)]


def _give_back(attempt: Attempt, died: bool) -> None:
    """The claimed jobs back to their retries; if Redis refuses, RQ's maintenance re-queues
    them once their executions in the started registry expire."""
    try:
        attempt.absorbed.give_back(attempt.rt.redis, died)
    except Exception:
        log.exception("claimed jobs of %s are left to RQ's maintenance", attempt.job.id)


def _run(attempt: Attempt, deaths: int, split: bool, envelopes: list[dict],
         work: Work) -> list[str]:
    if split:
        return ["split"]  # a previous attempt split the batch and died before finishing
    if deaths and len(envelopes) > 1:
        log.warning("job %s died %d time(s) with %d messages: splitting", attempt.job.id, deaths,
                    len(envelopes))
        return _split(attempt, envelopes)
    if deaths >= LONE_DEATHS:
        return _finish(attempt, _quarantine_alone(attempt.rt, envelopes[0], "poison", (
            f"the job handling this message alone died {deaths} times without an exception "
            "(job timeout, out of memory or a killed worker)")))
    return _attempt(attempt, envelopes, work)


def _start_attempt(rt: Runtime, key: str) -> tuple[int, bool, bool]:
    """Count this attempt; return (attempts that died before it, whether one split the batch,
    whether the job had any attempt record before: a death, or being the half of a split)."""
    with rt.redis.pipeline() as pipe:
        pipe.exists(key)
        pipe.hincrby(key, "started", 1)
        pipe.expire(key, ATTEMPTS_TTL_S)
        pipe.hget(key, "split")
        recorded, started, _, split = pipe.execute()
    return started - 1, split is not None, bool(recorded)


def _attempt(attempt: Attempt, envelopes: list[dict], work: Work) -> list[str]:
    job = attempt.job
    try:
        outcomes = work(attempt.rt, envelopes)
    except Exception as exc:
        if isolation.is_transient(exc) and job.retries_left:
            raise  # RQ retries the whole job with backoff
        if isolation.is_job_timeout(exc):
            log.warning("job %s timed out with %d message(s)", job.id, len(envelopes))
            if len(envelopes) == 1:
                raise  # the count stays: RQ retries, and the next attempt sees a death
            return _split(attempt, envelopes)
        log.exception("job %s failed outside per-message isolation or on its last attempt",
                      job.id)
        return _blame(attempt, envelopes, isolation.describe(exc))
    return _finish(attempt, outcomes)


def _blame(attempt: Attempt, envelopes: list[dict], detail: str) -> list[str]:
    """A failure no message owned: halves with retries of their own, or the lone message to the
    quarantine (which raises if even the store is down: then RQ's failed registry keeps it)."""
    if len(envelopes) > 1:
        return _split(attempt, envelopes)
    return _finish(attempt, _quarantine_alone(attempt.rt, envelopes[0], "error", detail))


def _finish(attempt: Attempt, outcomes: list[str]) -> list[str]:
    """This attempt is done, and so is every job it claimed (one Redis transaction)."""
    with phases.phase("finish"), attempt.rt.redis.pipeline() as pipe:
        pipe.delete(attempt.key)
        attempt.absorbed.finish(pipe, outcomes[-len(attempt.absorbed.envelopes):]
                                if attempt.absorbed.claimed else [])
        pipe.execute()
    return outcomes


def _split(attempt: Attempt, envelopes: list[dict]) -> list[str]:
    """Enqueue both halves, note the split and finish the claimed jobs (whose envelopes are in
    the halves now), in one Redis transaction. Each half runs alone: it is never claimed and
    claims nothing."""
    rt, job = attempt.rt, attempt.job
    middle = len(envelopes) // 2
    queue = Queue(job.origin, connection=rt.redis)
    with rt.redis.pipeline() as pipe:
        for number, half in enumerate((envelopes[:middle], envelopes[middle:]), start=1):
            enqueue_envelopes(rt.redis, job.origin, half, job_timeout=job.timeout or JOB_TIMEOUT_S,
                              pipeline=pipe, queue=queue, job_id=f"{job.id}-{number}")
        for number in (1, 2):  # after the enqueues: RQ opens the transaction itself
            pipe.hset(f"{attempt.key}-{number}", "half", 1)
            pipe.expire(f"{attempt.key}-{number}", ATTEMPTS_TTL_S)
        pipe.hset(attempt.key, "split", 1)
        attempt.absorbed.finish(pipe, ["split"] * len(attempt.absorbed.envelopes))
        pipe.execute()
    return ["split"]


def _quarantine_alone(rt: Runtime, envelope: dict, reason: str, detail: str) -> list[str]:
    """Quarantine the envelope without normalizing it again; its raw payload moves to the blob
    store first (the entry is replayable)."""
    item = Item(envelope=envelope, outcome="quarantined", reason=reason, detail=detail)
    try:
        load_raw(envelope, rt)
        rt.redis.delete(RAW_KEY + envelope["raw_ref"])  # durable in the blob store from now on
    except Quarantine as exc:  # raw_missing: say so rather than promise a replay
        item.reason, item.detail = exc.reason, f"{exc.detail}; {reason}: {detail}"
    store_items(rt, [item])
    log.warning("quarantined %s as %s", envelope.get("raw_ref"), item.reason)
    return [item.outcome]
