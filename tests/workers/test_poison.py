"""Jobs that die (issue 10, item 1): halves until the killer stands alone, then `poison`.

RQ workers run in this process (SimpleWorker, burst) on real Redis and databases. A death is
what a killed worker leaves behind: an attempt that started (counted in Redis) and never
finished. The kill -9 of a real worker process is in tests/integration/test_poison.py.
"""
from __future__ import annotations

import time

import pytest
from rq import Queue
from rq.job import Job
from sqlalchemy import select

from queues.intake import CHANNEL_QUEUES, Intake, Submission
from store.models import Message, QuarantineEntry
from tests.workers import faults
from tests.workers.test_isolation import mail
from workers.ingest import normalize, poison
from workers.ingest.job import ingest_with
from workers.ingest.isolation import Transient
from workers.run import IngestWorker


def enqueue(rt, raws: list[bytes], channel: str = "email", job_timeout: int = 60) -> Job:
    envelopes = Intake(rt.redis, job_timeout=job_timeout).accept_many(
        [Submission(channel, "demo", "smtp", raw) for raw in raws])
    return Job.fetch(envelopes[0]["job_id"], connection=rt.redis)


def died(rt, job: Job, times: int = 1) -> None:
    """What a worker killed mid-job leaves: attempts that started and never finished."""
    for _ in range(times):
        poison._start_attempt(rt, poison.ATTEMPTS_KEY + job.id)


def drain(rt, queue_name: str = "email", rounds: int = 15) -> None:
    """Burst workers until nothing is queued or scheduled (a retry's backoff is 1 s)."""
    queue = Queue(queue_name, connection=rt.redis)
    for _ in range(rounds):
        IngestWorker([queue], connection=rt.redis).work(burst=True, with_scheduler=True)
        if not queue.scheduled_job_registry.count:
            return
        time.sleep(1)
    raise AssertionError("jobs still scheduled")


def subjects(rt) -> list[str]:
    with rt.sessions() as session:
        return sorted(session.scalars(select(Message.subject)))


def entries(rt) -> list[QuarantineEntry]:
    with rt.sessions() as session:
        return session.scalars(select(QuarantineEntry).order_by(QuarantineEntry.id)).all()


def assert_nothing_failed(rt, queue_name: str = "email") -> None:
    queue = Queue(queue_name, connection=rt.redis)
    assert queue.failed_job_registry.count == 0
    assert queue.count == 0
    leftover = rt.redis.keys(poison.ATTEMPTS_KEY + "*")
    assert all(rt.redis.hget(key, "split") for key in leftover)  # notes of done splits only


def test_a_job_that_died_is_split_in_halves(rt):
    job = enqueue(rt, [mail(n) for n in range(1, 5)])
    died(rt, job)
    drain(rt)
    assert subjects(rt) == ["Case 1", "Case 2", "Case 3", "Case 4"]
    first, second = (Job.fetch(f"{job.id}-{n}", connection=rt.redis) for n in (1, 2))
    assert Job.fetch(job.id, connection=rt.redis).return_value() == ["split"]
    assert first.return_value() == second.return_value() == ["created", "created"]
    assert_nothing_failed(rt)


def test_a_lone_message_that_died_once_runs_again(rt):
    job = enqueue(rt, [mail(1)])
    died(rt, job)
    drain(rt)
    assert subjects(rt) == ["Case 1"]
    assert entries(rt) == []


def test_a_lone_message_that_died_twice_is_quarantined_poison(rt):
    job = enqueue(rt, [mail(1)])
    died(rt, job, times=poison.LONE_DEATHS)
    drain(rt)
    assert subjects(rt) == []
    [entry] = entries(rt)
    assert entry.reason == "poison" and "died 2 times" in entry.detail
    assert rt.blobs.exists(entry.envelope["raw_ref"])  # kept for the replay
    assert_nothing_failed(rt)


def test_a_split_is_done_once_when_the_splitting_attempt_dies(rt):
    job = enqueue(rt, [mail(n) for n in range(1, 5)])
    died(rt, job, times=2)  # the second attempt splits, then dies before it finishes
    poison._split(poison.Attempt(rt, job, poison.ATTEMPTS_KEY + job.id), job.args[0])
    queue = Queue("email", connection=rt.redis)
    assert queue.count == 3  # the re-queued parent and its halves
    drain(rt)
    assert queue.finished_job_registry.count == 3
    assert subjects(rt) == ["Case 1", "Case 2", "Case 3", "Case 4"]


def test_job_timeout_splits_until_the_sleeper_is_quarantined_poison(rt, monkeypatch):
    """RQ's death penalty (SIGALRM) next to the CPU budget (SIGPROF): the burner is stopped by
    its budget inside the job, the sleeper by the job's timeout, everyone else is stored."""
    monkeypatch.setitem(normalize.ADAPTERS, "email", faults.ADAPTER)
    enqueue(rt, [mail(1), mail(2, "sleep"), mail(3), mail(4, "burn"), mail(5)], job_timeout=2)
    drain(rt)
    assert subjects(rt) == ["Case 1", "Case 3", "Case 5"]
    assert sorted((e.reason, e.envelope["size"] > 0) for e in entries(rt)) == [
        ("poison", True), ("too_expensive", True)]
    assert_nothing_failed(rt)


@pytest.mark.parametrize("channel", [c for c in CHANNEL_QUEUES if c != "email"])
def test_every_channel_queue_splits_on_its_own_queue(rt, channel):
    job = enqueue(rt, [b'{"junk": %d}' % n for n in range(3)], channel=channel)
    died(rt, job)
    drain(rt, channel)
    assert Job.fetch(f"{job.id}-2", connection=rt.redis).origin == channel
    assert len(entries(rt)) == 3  # junk is quarantined, never a failed job
    assert_nothing_failed(rt, channel)


def test_an_exception_outside_message_isolation_splits_then_quarantines_error(rt):
    def work(runtime, envelopes):
        if any(e.get("meta", {}).get("bad") for e in envelopes):
            raise RuntimeError("a bug outside per-message isolation")
        return ingest_with(runtime, envelopes)

    envelopes = Intake(rt.redis).accept_many([
        Submission("email", "demo", "smtp", mail(1)),
        Submission("email", "demo", "smtp", mail(2), meta={"bad": True})])
    job = Job.fetch(envelopes[0]["job_id"], connection=rt.redis)
    assert poison.guarded(rt, job, job.args[0], work) == ["split"]
    for number in (1, 2):
        half = Job.fetch(f"{job.id}-{number}", connection=rt.redis)
        poison.guarded(rt, half, half.args[0], work)
    assert subjects(rt) == ["Case 1"]
    [entry] = entries(rt)
    assert entry.reason == "error" and entry.detail.startswith("RuntimeError: a bug")


def test_a_transient_failure_is_not_counted_as_a_death(rt):
    def down(_runtime, _envelopes):
        raise Transient("database restarting")

    job = enqueue(rt, [mail(1), mail(2)])
    with pytest.raises(Transient):
        poison.guarded(rt, job, job.args[0], down)
    assert not rt.redis.exists(poison.ATTEMPTS_KEY + job.id)


def test_a_transient_failure_on_the_last_attempt_splits_then_quarantines_error(rt):
    """A remote file server down for longer than all retries must not park the batch in the
    failed registry: the halves get retries of their own, the lone message is quarantined."""
    def remote_down(runtime, envelopes):
        if any(e.get("meta", {}).get("remote") for e in envelopes):
            raise Transient("remote file server: 503")
        return ingest_with(runtime, envelopes)

    envelopes = Intake(rt.redis).accept_many([
        Submission("email", "demo", "smtp", mail(1)),
        Submission("email", "demo", "smtp", mail(2), meta={"remote": True})])
    job = Job.fetch(envelopes[0]["job_id"], connection=rt.redis)
    job.retries_left = 0  # what RQ leaves after the last of its retries
    assert poison.guarded(rt, job, job.args[0], remote_down) == ["split"]
    first, second = (Job.fetch(f"{job.id}-{n}", connection=rt.redis) for n in (1, 2))
    assert second.retries_left > 0  # the halves start over
    with pytest.raises(Transient):
        poison.guarded(rt, second, second.args[0], remote_down)
    second.retries_left = 0
    assert poison.guarded(rt, second, second.args[0], remote_down) == ["quarantined"]
    assert poison.guarded(rt, first, first.args[0], remote_down) == ["created"]
    [entry] = entries(rt)
    assert entry.reason == "error" and "Transient: remote file server: 503" in entry.detail
