"""Upgrading across the queue rename ``messenger`` -> ``telegram``: nothing queued is stranded.

Jobs an older version left on ``messenger`` (waiting, waiting for a retry, failed, abandoned by a
killed worker) are moved onto ``telegram`` by its worker, and ``python -m workers.run messenger``
still starts that worker, with a deprecation warning."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from queues import metrics
from queues.former_queues import adopt
from queues.intake import RAW_KEY, Intake, enqueue_envelopes, make_envelope
from store.models import Ticket
from tests.integration.harness import process_env, start_worker
from tests.telegram import updates as tg

QUEUES_KEY = Queue.redis_queues_keys


def queued_before_the_rename(redis, update: dict) -> Job:
    """What the edge of the previous version wrote: the raw update and a ``messenger`` job."""
    raw = tg.raw(update)
    sha = hashlib.sha256(raw).hexdigest()
    redis.set(RAW_KEY + sha, raw)
    envelope = make_envelope("messenger", "demo", "support", sha, len(raw),
                             {"bot": "support", "update_id": update["update_id"]})
    return enqueue_envelopes(redis, "messenger", [envelope])


def test_waiting_jobs_move_to_the_head_of_the_telegram_queue_in_their_order(redis_conn):
    first = queued_before_the_rename(redis_conn, tg.message(81001, 1, "first"))
    second = queued_before_the_rename(redis_conn, tg.message(81002, 2, "second"))
    current = Intake(redis_conn).accept("telegram", "demo", "support",
                                        tg.raw(tg.message(81003, 3, "after the upgrade")))
    assert adopt(redis_conn, "telegram") == 2
    assert Queue("telegram", connection=redis_conn).job_ids == [first.id, second.id,
                                                                 current["job_id"]]
    assert Job.fetch(first.id, connection=redis_conn).origin == "telegram"
    assert not redis_conn.exists(Queue("messenger", connection=redis_conn).key)
    queues = {key.decode() for key in redis_conn.smembers(QUEUES_KEY)}
    assert "rq:queue:telegram" in queues and "rq:queue:messenger" not in queues
    assert adopt(redis_conn, "telegram") == 0  # a second pass finds nothing to move


def test_retries_failures_and_abandoned_jobs_move_with_their_times(redis_conn):
    old = Queue("messenger", connection=redis_conn)
    retrying, failed, abandoned = (queued_before_the_rename(redis_conn, tg.message(n, n))
                                   for n in (82001, 82002, 82003))
    redis_conn.delete(old.key)  # a job sits in one place at a time
    retry_at = datetime.now(timezone.utc) + timedelta(seconds=30)
    old.scheduled_job_registry.schedule(retrying, retry_at)
    old.failed_job_registry.add(failed, ttl=3600, exc_string="database down")
    abandoned.set_status(JobStatus.STARTED)
    redis_conn.zadd(old.started_job_registry.key, {f"{abandoned.id}:execution-1": 1000})
    assert adopt(redis_conn, "telegram") == 3

    new = Queue("telegram", connection=redis_conn)
    assert new.scheduled_job_registry.get_job_ids() == [retrying.id]
    assert new.scheduled_job_registry.get_scheduled_time(retrying).timestamp() == pytest.approx(
        retry_at.timestamp(), abs=1)
    assert new.failed_job_registry.get_job_ids() == [failed.id]
    assert old.scheduled_job_registry.count == old.failed_job_registry.count == 0
    assert not redis_conn.exists(old.started_job_registry.key)
    new.failed_job_registry.requeue(failed.id)  # python -m queues.replay failed
    new.started_job_registry.cleanup()  # a worker's maintenance: the abandoned job is retried
    assert set(new.job_ids) == {failed.id, abandoned.id}


def test_a_queue_never_renamed_is_left_alone(redis_conn):
    job = enqueue_envelopes(redis_conn, "email", [{"channel": "email"}])
    assert adopt(redis_conn, "email") == 0
    assert Queue("email", connection=redis_conn).job_ids == [job.id]


def test_counts_of_the_former_name_are_reported_under_telegram(redis_conn):
    metrics.add(redis_conn, {"received|messenger": 3, "received|telegram": 2,
                             "latency_count|messenger": 1, "routing_decisions|assign": 4},
                {"latency_sum|messenger": 0.5})
    values = metrics.read_all(redis_conn)
    assert values["received|telegram"] == 5 and values["latency_count|telegram"] == 1
    assert values["latency_sum|telegram"] == 0.5 and values["routing_decisions|assign"] == 4
    assert not [key for key in values if "messenger" in key]


@pytest.mark.parametrize("name", ["messenger", "telegram"])
def test_the_worker_drains_jobs_left_on_the_former_queue(sqlite_runtime, tmp_path, name):
    """``python -m workers.run messenger`` (the old Procfile line) and ``... telegram`` alike."""
    queued_before_the_rename(sqlite_runtime.redis, tg.message(83001, 1, "My order is late"))
    queued_before_the_rename(sqlite_runtime.redis, tg.message(83002, 2, "Order 1234"))
    worker = start_worker(process_env(sqlite_runtime, tmp_path), name)
    output = worker.communicate(timeout=60)[0].decode(errors="replace")
    assert worker.returncode == 0, output[-3000:]
    assert ("'messenger' is deprecated" in output) == (name == "messenger"), output[-3000:]
    with sqlite_runtime.sessions() as s:
        [ticket] = s.scalars(select(Ticket)).all()
    assert ticket.channel == "telegram" and ticket.message_count == 2
    assert Queue("messenger", connection=sqlite_runtime.redis).count == 0
    values = metrics.read_all(sqlite_runtime.redis)
    assert values["tickets_created|telegram"] == 1 and values["tickets_threaded|telegram"] == 1
