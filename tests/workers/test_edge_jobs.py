"""The jobs the edges write without RQ's ``Job`` object (``queues/rq_jobs.py``) are RQ's jobs.

Compared with what RQ's own ``enqueue_call`` writes for the same batch (``enqueue_envelopes``),
field by field; then RQ reads, retries, fails, requeues and runs one as any job of its own.
"""
from __future__ import annotations

import zlib

from rq import Queue
from rq.job import Job, JobStatus

from queues.intake import FAILURE_TTL_S, RESULT_TTL_S, Intake, enqueue_envelopes
from tests.workers.test_isolation import mail
from tests.workers.test_poison import assert_nothing_failed, drain, subjects
from workers.run import IngestWorker

VOLATILE = {"created_at", "enqueued_at"}  # stamps of the moment; whether they are set is compared


def fields(rt, job_id: str) -> dict:
    raw = rt.redis.hgetall(Job.redis_job_namespace_prefix + job_id)
    return {k.decode(): (bool(v) if k.decode() in VOLATILE else v) for k, v in raw.items()}


def test_an_edge_job_has_the_fields_rq_writes_and_its_data(rt):
    envelope = Intake(rt.redis).accept("email", "demo", "smtp", mail(1))
    job_id = envelope.pop("job_id")
    reference = enqueue_envelopes(rt.redis, "email", [envelope])
    ours, theirs = fields(rt, job_id), fields(rt, reference.id)
    assert ours.pop("description") == b"workers.ingest.job.ingest(<1 envelope(s)>)"
    assert theirs.pop("description").startswith(b"workers.ingest.job.ingest([{")
    ours_data, theirs_data = ours.pop("data"), theirs.pop("data")
    assert ours == theirs
    assert zlib.decompress(ours_data) == zlib.decompress(theirs_data)  # the same pickle
    assert rt.redis.ttl(Job.redis_job_namespace_prefix + job_id) == -1  # as RQ's: no expiry
    queue = Queue("email", connection=rt.redis)
    assert queue.job_ids == [job_id, reference.id]
    assert rt.redis.smembers(Queue.redis_queues_keys) == {queue.key.encode()}


def test_rq_reads_an_edge_job_as_one_of_its_own(rt):
    intake = Intake(rt.redis, job_timeout=45)
    envelope = intake.accept("email", "demo", "smtp", mail(1))
    job = Job.fetch(envelope["job_id"], connection=rt.redis)
    assert job.func_name == "workers.ingest.job.ingest"
    assert job.args == ([{k: v for k, v in envelope.items() if k != "job_id"}],)
    assert job.kwargs == {} and job.origin == "email" and job.get_status() == JobStatus.QUEUED
    assert (job.timeout, job.result_ttl, job.failure_ttl) == (45, RESULT_TTL_S, FAILURE_TTL_S)
    assert job.retries_left == 15 and job.retry_intervals[:3] == [0, 1, 2]
    assert job.enqueued_at is not None and job.created_at is not None
    assert Queue.all(connection=rt.redis) == [Queue("email", connection=rt.redis)]


def failed_by_rq(worker: IngestWorker, queue: Queue) -> Job:
    """What RQ's worker does with a job that raised: dequeue, start, handle the failure."""
    job, _ = Queue.dequeue_any(worker.queues, None, connection=queue.connection)
    worker.prepare_execution(job)
    worker.prepare_job_execution(job, remove_from_intermediate_queue=True)
    worker.handle_job_failure(job, queue, exc_string="database restarting")
    job.refresh()
    return job


def test_an_edge_job_retries_fails_is_requeued_and_runs_the_rq_way(rt):
    queue = Queue("email", connection=rt.redis)
    job_id = Intake(rt.redis).accept("email", "demo", "smtp", mail(7))["job_id"]
    worker = IngestWorker([queue], connection=rt.redis)
    job = failed_by_rq(worker, queue)
    assert job.id == job_id
    assert job.retries_left == 14 and job.get_status() == JobStatus.QUEUED
    assert queue.job_ids == [job_id]  # RQ's Retry: the first retry is immediate

    job.retries_left = 0  # its retries ran out: RQ keeps it in its failed registry
    job.save()
    assert failed_by_rq(worker, queue).get_status() == JobStatus.FAILED
    assert queue.failed_job_registry.get_job_ids() == [job_id]
    queue.failed_job_registry.requeue(job_id)  # what `rq requeue` and the replay tool call
    drain(rt)
    assert subjects(rt) == ["Case 7"]
    assert Job.fetch(job_id, connection=rt.redis).return_value() == ["created"]
    assert_nothing_failed(rt)
