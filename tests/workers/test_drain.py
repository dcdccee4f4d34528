"""A worker drains a backlog in batches (issue 12, item 1): ``workers/ingest/drain.py``.

RQ workers run in this process (SimpleWorker, burst) on real Redis and databases. Every job
here holds one envelope, as a lone SMTP sender's group commit makes them; a leader takes the
fresh jobs queued behind it into its batch. What a killed worker leaves behind is built with
RQ's own calls (dequeue, start, claim, and then nothing), and recovered by RQ's own
maintenance; the kill -9 of real worker processes is in tests/integration (test_failures.py,
test_poison.py).
"""
from __future__ import annotations

import time

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from queues.intake import Intake, ingest_retry
from store.models import Message, Ticket
from tests.integration.mails import customer_mail, reply_to
from tests.workers import faults
from tests.workers.test_isolation import mail
from tests.workers.test_poison import (assert_nothing_failed, died, drain as work_until_done,
                                       entries, subjects)
from workers.ingest import drain, job as ingest_job, normalize, poison
from workers.ingest.isolation import Transient
from workers.run import IngestWorker


def enqueue_each(rt, raws: list[bytes], job_timeout: int = 60) -> list[Job]:
    """One job per message, as a lone sender's group commits enqueue them."""
    intake = Intake(rt.redis, job_timeout=job_timeout)
    return [Job.fetch(intake.accept("email", "demo", "smtp", raw)["job_id"],
                      connection=rt.redis) for raw in raws]


@pytest.fixture
def batches(monkeypatch) -> list[int]:
    """The size of every batch the job stores (one transaction each)."""
    sizes = []
    real = ingest_job.store_items

    def counting(runtime, items):
        sizes.append(len(items))
        return real(runtime, items)

    monkeypatch.setattr(ingest_job, "store_items", counting)
    return sizes


def started_like_rq(rt) -> Job:
    """What a worker does before it runs a job: dequeue it (RQ's safe LMOVE) and start it."""
    worker = IngestWorker([Queue("email", connection=rt.redis)], connection=rt.redis)
    job, _ = Queue.dequeue_any(worker.queues, None, connection=rt.redis)
    worker.prepare_execution(job)
    worker.prepare_job_execution(job, remove_from_intermediate_queue=True)
    return job


def leftovers(rt) -> dict:
    queue = Queue("email", connection=rt.redis)
    return {"queued": queue.count, "started": queue.started_job_registry.count,
            "intermediate": rt.redis.llen(queue.intermediate_queue_key),
            "attempts": len(rt.redis.keys(poison.ATTEMPTS_KEY + "*"))}


def test_a_backlog_of_one_message_jobs_is_stored_in_one_batch(rt, batches):
    jobs = enqueue_each(rt, [mail(n) for n in range(1, 11)])
    work_until_done(rt)
    assert batches == [10]
    assert subjects(rt) == sorted(f"Case {n}" for n in range(1, 11))
    for job in jobs:  # each claimed job is finished the RQ way, with its own outcome
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED and job.return_value() == ["created"]
    assert Queue("email", connection=rt.redis).finished_job_registry.count == 10
    assert leftovers(rt) == {"queued": 0, "started": 0, "intermediate": 0, "attempts": 0}
    assert_nothing_failed(rt)


def test_a_batch_holds_at_most_the_bound(rt, batches, monkeypatch):
    monkeypatch.setattr(drain, "MAX_BATCH_ENVELOPES", 4)
    enqueue_each(rt, [mail(n) for n in range(1, 11)])
    work_until_done(rt)
    assert batches == [4, 4, 2]
    assert len(subjects(rt)) == 10


def test_a_reply_queued_behind_its_parent_threads_in_the_same_batch(rt, batches):
    original = customer_mail()
    enqueue_each(rt, [original.as_bytes(), reply_to(original, "still burning").as_bytes()])
    work_until_done(rt)
    assert batches == [2]
    with rt.sessions() as session:
        assert session.scalar(select(Ticket.message_count)) == 2
        assert len(session.scalars(select(Message)).all()) == 2


def test_claiming_stops_at_a_job_that_died_before(rt, batches):
    jobs = enqueue_each(rt, [mail(n) for n in range(1, 5)])
    died(rt, jobs[2])
    work_until_done(rt)
    assert batches == [2, 1, 1]  # the one that died runs alone, and so does the job behind it
    assert len(subjects(rt)) == 4
    assert_nothing_failed(rt)


def test_a_retried_job_is_not_claimed(rt, batches):
    jobs = enqueue_each(rt, [mail(n) for n in range(1, 4)])
    jobs[1].retries_left -= 1  # what RQ's retry leaves
    jobs[1].save()
    work_until_done(rt)
    assert batches == [1, 2]


def test_a_job_of_another_function_stops_the_claim_where_it_stands(rt):
    jobs = enqueue_each(rt, [mail(1), mail(2)])
    queue = Queue("email", connection=rt.redis)
    foreign = queue.enqueue_call("builtins.len", args=([1, 2],), retry=ingest_retry(),
                                 result_ttl=600)  # fresh by every other sign
    last = enqueue_each(rt, [mail(3)])[0]
    leader = started_like_rq(rt)
    absorbed = drain.claim(rt.redis, leader, 1)
    assert [c.id for c in absorbed.claimed] == [jobs[1].id]
    assert queue.job_ids == [foreign.id, last.id]  # back at the head, in their order
    assert leftovers(rt)["intermediate"] == 0
    assert foreign.get_status(refresh=True) == JobStatus.QUEUED


def test_a_worker_killed_after_claiming_loses_nothing(rt, batches):
    enqueue_each(rt, [mail(n) for n in range(1, 5)])
    leader = started_like_rq(rt)
    poison._start_attempt(rt, poison.ATTEMPTS_KEY + leader.id)
    absorbed = drain.claim(rt.redis, leader, 1)
    assert len(absorbed.claimed) == 3
    # ... and the worker dies here: every job is RQ's started job, with one attempt counted
    assert leftovers(rt) == {"queued": 0, "started": 4, "intermediate": 0, "attempts": 4}
    queue = Queue("email", connection=rt.redis)
    assert all(c.job.get_status(refresh=True) == JobStatus.STARTED for c in absorbed.claimed)
    queue.started_job_registry.cleanup(timestamp=time.time() + 3600)  # RQ's maintenance
    assert queue.count == 4
    work_until_done(rt)
    assert batches == [1, 1, 1, 1]  # each died once: each runs alone
    assert subjects(rt) == [f"Case {n}" for n in range(1, 5)]
    assert_nothing_failed(rt)


def test_ids_claimed_by_a_worker_killed_before_it_started_them_are_requeued(rt):
    enqueue_each(rt, [mail(n) for n in range(1, 4)])
    queue = Queue("email", connection=rt.redis)
    script = rt.redis.register_script(drain.CLAIM)
    ids = script(keys=[queue.key, queue.intermediate_queue_key],
                 args=[10, drain.ATTEMPTS_KEY, Job.redis_job_namespace_prefix,
                       drain.FRESH_RETRIES])[::3]  # (id, data, result TTL) per job
    assert len(ids) == 3 and queue.count == 0  # ... and the worker dies here
    worker = IngestWorker([queue], connection=rt.redis)
    queue.intermediate_queue.cleanup(worker, queue)  # RQ's maintenance sees them first...
    for job_id in ids:  # ... and a minute later
        rt.redis.set(queue.intermediate_queue.get_first_seen_key(job_id.decode()),
                     time.time() - 120)
    queue.intermediate_queue.cleanup(worker, queue)
    assert queue.count == 3
    work_until_done(rt)
    assert len(subjects(rt)) == 3
    assert_nothing_failed(rt)


def test_a_transient_failure_gives_claimed_jobs_back_to_their_retries(rt):
    jobs = enqueue_each(rt, [mail(n) for n in range(1, 4)])
    leader = started_like_rq(rt)

    def down(_runtime, envelopes):
        assert len(envelopes) == 3
        raise Transient("database restarting")

    with pytest.raises(Transient):
        poison.guarded(rt, leader, leader.args[0], down)
    queue = Queue("email", connection=rt.redis)
    assert queue.job_ids == [jobs[1].id, jobs[2].id]
    for job in jobs[1:]:
        job.refresh()
        assert job.retries_left == int(drain.FRESH_RETRIES) - 1
    # only the leader is left started: RQ's worker handles its failure when the job raises
    assert leftovers(rt) == {"queued": 2, "started": 1, "intermediate": 0, "attempts": 0}


def test_a_sleeper_among_claimed_jobs_is_split_out_and_quarantined_poison(rt, monkeypatch):
    monkeypatch.setitem(normalize.ADAPTERS, "email", faults.ADAPTER)
    jobs = enqueue_each(rt, [mail(1), mail(2, "sleep"), mail(3)], job_timeout=2)
    work_until_done(rt)
    assert subjects(rt) == ["Case 1", "Case 3"]
    assert [e.reason for e in entries(rt)] == ["poison"]
    for job in jobs:  # one batch timed out: its envelopes went to the leader's halves
        assert Job.fetch(job.id, connection=rt.redis).return_value() == ["split"]
    halves = [Job.fetch(f"{jobs[0].id}-{n}", connection=rt.redis) for n in (1, 2)]
    assert [len(half.args[0]) for half in halves] == [1, 2]
    assert_nothing_failed(rt)
