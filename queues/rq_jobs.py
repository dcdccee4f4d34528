"""RQ jobs written as RQ's enqueue writes them, without building RQ's ``Job`` object.

The SMTP edge enqueues one job per group commit, hundreds a second; RQ's ``enqueue_call``
builds a ``Job`` (argument checks, serializer resolution, dependency set-up, a repr of every
argument for its description) and sends four commands: ``SADD rq:queues``, ``HSET`` of the
status, ``HSET`` of the whole hash, ``RPUSH``. Every ingest job of a queue has the same
function, timeout, TTLs and ``Retry``, so ``JobWriter`` computes those fields once and writes a
job with one ``HSET`` of the whole hash (status included) between the same ``SADD`` and
``RPUSH``, in the caller's transaction.

What lands in Redis is an RQ job like any other: the fields ``to_dict`` writes for such a job,
the data RQ's default serializer makes (zlib of the pickled ``(func, None, args, {})``), on the
queue's list. RQ's workers, registries, retries, failed-job requeue and ``rq info`` read it as
one of theirs (tests/queues/test_rq_jobs.py compares it with what ``enqueue_call`` writes and
runs it through RQ). The one chosen difference: the description names the function and how
many envelopes the job carries instead of repeating every argument (RQ's default call string
copied the whole batch into the hash a second time).
"""
from __future__ import annotations

import json
import pickle
import zlib
from uuid import uuid4

from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.utils import now, utcformat


class JobWriter:
    """Writes jobs of one function with fixed options onto one queue (see the module docstring)."""

    def __init__(self, queue: str, func_name: str, timeout: int, result_ttl: int,
                 failure_ttl: int, retry: Retry):
        self.func_name = func_name
        self.queue_key = Queue.redis_queue_namespace_prefix + queue
        self.constant = {  # Job.to_dict's fields of a queued job that never differ here
            "success_callback_name": "", "failure_callback_name": "",
            "stopped_callback_name": "", "started_at": "", "ended_at": "", "last_heartbeat": "",
            "worker_name": "", "group_id": "", "retries_left": retry.max,
            "retry_intervals": json.dumps(retry.intervals), "origin": queue, "timeout": timeout,
            "result_ttl": result_ttl, "failure_ttl": failure_ttl,
            "status": JobStatus.QUEUED.value,
        }

    def write(self, pipe, args: tuple, description: str, job_id: str | None = None) -> str:
        """Add the job's writes to ``pipe`` (a transaction the caller executes); its id."""
        job_id = job_id or str(uuid4())
        stamp = utcformat(now())
        data = pickle.dumps((self.func_name, None, args, {}), protocol=pickle.HIGHEST_PROTOCOL)
        pipe.sadd(Queue.redis_queues_keys, self.queue_key)
        pipe.hset(Job.redis_job_namespace_prefix + job_id, mapping={
            **self.constant, "created_at": stamp, "enqueued_at": stamp,
            "data": zlib.compress(data), "description": description})
        pipe.rpush(self.queue_key, job_id)
        return job_id
