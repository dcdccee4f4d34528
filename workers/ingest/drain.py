"""Draining a backlog: an ingest job takes further queued jobs of its queue into its batch.

A batch used to be only what one group-commit window at the edge collected, so the worker's
rate depended on how many senders happened to connect at once. Now the job RQ hands a worker
(the *leader*) first claims the fresh ingest jobs waiting at the head of its own queue, up to
``MAX_BATCH_ENVELOPES`` envelopes in all, and the leader stores their envelopes with its own
in one transaction (``workers.ingest.job``). A backlog drains at the batched rate whatever
the number of senders; a quiet queue costs one extra round trip per job (a claim that finds
nothing).

Claimed jobs stay RQ jobs, tracked by RQ's own structures at every moment:

1. ``CLAIM`` (one Lua script, atomic in Redis) moves each claimed id from the queue to the
   queue's intermediate list with ``LMOVE``, exactly as RQ's own safe dequeue does.
2. One MULTI/EXEC then does for every claimed job what RQ does when a worker starts a job:
   an execution in the ``StartedJobRegistry`` (expiring when the leader's does), status
   ``started``, the job's entry leaves the intermediate list; and counts the job's attempt
   for ``workers.ingest.poison``.
3. After the leader committed the batch, one MULTI/EXEC finishes every claimed job as RQ
   finishes a successful one (result, finished registry, execution removed); on a transient
   failure each is retried with RQ's ``Retry`` of its own (``give_back``).

Steps 2 and 3 write what RQ's own calls write, without their redundant writes (a second
heartbeat field, the whole job hash re-saved at the finish, expiries of dependency keys that
ingest jobs never have): see ``Absorbed.finish`` and tests/workers/test_drain_bookkeeping.py.

A worker killed between 1 and 2 leaves the ids in the intermediate list, which RQ's
maintenance hands to the retry after a minute; killed later, the executions in the started
registry expire and RQ's maintenance re-queues each job (every ingest job carries ``Retry``).
Their attempt counts then say they died once, so each runs alone and a killer among them is
found by halving, as before (``workers.ingest.poison``).

Only *fresh* jobs are claimed: never attempted (no attempt count in Redis) and never retried
(``retries_left`` as enqueued). A job that died or failed before runs alone, as RQ hands it
out, and a leader that died before claims nothing.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from uuid import uuid4

from redis import Redis
from rq import Queue
from rq.defaults import DEFAULT_RESULT_TTL
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job, JobStatus
from rq.registry import FinishedJobRegistry, StartedJobRegistry
from rq.results import Result
from rq.utils import now, utcformat
from rq.worker import Worker

from queues.intake import INGEST_JOB, JOB_TIMEOUT_S, RETRY_INTERVALS_S

log = logging.getLogger(__name__)

# A leader claims jobs until its batch holds this many envelopes; INGEST_BATCH_MAX sets another
# bound (1: no claiming, a batch is one job, as the edge's group commit made it).
MAX_BATCH_ENVELOPES = int(os.environ.get("INGEST_BATCH_MAX") or 100)
MAX_ROUND_JOBS = 32        # jobs claimed per round trip at most
# A running job's registry entry expires this long after its timeout. A SimpleWorker runs the job
# in-process (a death penalty stops it at its timeout), so RQ's default 60 s slack only delays
# the recovery of jobs whose worker was killed.
HEARTBEAT_GRACE_S = 10
ATTEMPTS_KEY = "ticketgate:attempts:"  # + job id: hash {started: attempts, split: 1 once split}
ATTEMPTS_TTL_S = 24 * 3600  # seconds; outlives any retry backoff of a job that died
FRESH_RETRIES = str(len(RETRY_INTERVALS_S))

# KEYS: queue list, its intermediate list. ARGV: most jobs to claim, attempts key prefix, job key
# prefix, retries_left of a fresh job. Claims the head of the queue while it is fresh, in order;
# stops at the first job that is not (it is left where it is, for RQ to hand out alone).
CLAIM = """
local claimed = {}
for _ = 1, tonumber(ARGV[1]) do
  local id = redis.call('LINDEX', KEYS[1], 0)
  if not id then break end
  if redis.call('EXISTS', ARGV[2] .. id) == 1 then break end
  if redis.call('HGET', ARGV[3] .. id, 'retries_left') ~= ARGV[4] then break end
  redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  claimed[#claimed + 1] = id
end
return claimed
"""


def registry_ttl(job: Job) -> int:
    """Seconds a started job stays in the started registry without its worker finishing it."""
    return int(job.timeout or JOB_TIMEOUT_S) + HEARTBEAT_GRACE_S


@dataclass
class Claimed:
    """One job taken into a leader's batch, with its RQ execution."""
    job: Job
    envelopes: list[dict]
    execution: Execution | None = None


@dataclass
class Absorbed:
    """The jobs a leader claimed: their envelopes follow the leader's own in the batch."""
    claimed: list[Claimed] = field(default_factory=list)

    @property
    def envelopes(self) -> list[dict]:
        return [e for c in self.claimed for e in c.envelopes]

    def finish(self, pipe, outcomes: list[str]) -> None:
        """Add to ``pipe`` what finishes every claimed job as a success (RQ's bookkeeping),
        each with its share of ``outcomes`` (the batch's outcomes after the leader's own).

        The writes are those of RQ's ``Job._handle_success``, ``Job.cleanup`` and
        ``Execution.delete`` with two cuts (see "Claimed jobs' bookkeeping" in
        docs/architecture.md): the job hash gets only the fields that changed (status,
        ended_at) instead of the whole job re-serialized with its arguments, and the
        expiries of dependency keys that ingest jobs never have are not sent.
        """
        if not self.claimed:
            return
        ended = now()
        started, finished = _registries(self.claimed[0].job)
        changed = {"status": JobStatus.FINISHED.value, "ended_at": utcformat(ended)}
        for item in self.claimed:
            job, execution, count = item.job, item.execution, len(item.envelopes)
            job._result, outcomes = outcomes[:count], outcomes[count:]
            job.ended_at, job._status = ended, JobStatus.FINISHED
            result_ttl = job.get_result_ttl(DEFAULT_RESULT_TTL)
            pipe.hset(job.key, mapping=changed)
            Result.create(job, Result.Type.SUCCESSFUL, ttl=result_ttl, return_value=job._result,
                          worker_name=job.worker_name, pipeline=pipe,
                          execution_id=execution.id,
                          execution_started_at=execution.created_at,
                          execution_ended_at=ended)
            if result_ttl != 0:
                finished.add(job, result_ttl, pipe)
            if result_ttl == 0:
                job.delete(pipeline=pipe, remove_from_queue=False)
            elif result_ttl > 0:
                pipe.expire(job.key, result_ttl)
            pipe.delete(execution.key)
            started.remove_execution(execution, pipeline=pipe)
            ExecutionRegistry(job_id=job.id, connection=pipe).remove(execution, pipeline=pipe)
            if execution.worker_name:
                pipe.srem(execution.worker_executions_key, execution.composite_key)
            pipe.delete(ATTEMPTS_KEY + job.id)
        _count_on_worker(pipe, self.claimed, "successful_job_count")

    def give_back(self, redis: Redis, died: bool) -> None:
        """Hand every claimed job back to RQ as a failed attempt: re-queued by its ``Retry``.

        ``died`` keeps their attempt counts (the leader died in a way that may be a message's:
        each then runs alone); a transient failure is no death and clears them.
        """
        if not self.claimed:
            return
        queue = Queue(self.claimed[0].job.origin, connection=redis)
        with redis.pipeline() as pipe:
            for item in self.claimed:
                item.job.ended_at = now()
                item.execution.delete(job=item.job, pipeline=pipe)
                item.job.retry(queue, pipe)
                if not died:
                    pipe.delete(ATTEMPTS_KEY + item.job.id)
            _count_on_worker(pipe, self.claimed, "failed_job_count")
            pipe.execute()
        log.info("gave back %d claimed job(s) to their retries", len(self.claimed))


def claim(redis: Redis, leader: Job, own_envelopes: int) -> Absorbed:
    """Claim fresh ingest jobs queued behind ``leader`` until the batch holds
    ``MAX_BATCH_ENVELOPES`` envelopes.

    Rounds of at most ``MAX_ROUND_JOBS`` jobs, each sized by the largest job seen so far, so
    the bound is passed only by a round whose jobs are larger than every earlier one.
    """
    queue = Queue(leader.origin, connection=redis)
    script = redis.register_script(CLAIM)
    absorbed, room = Absorbed(), MAX_BATCH_ENVELOPES - own_envelopes
    largest = max(own_envelopes, 1)
    while room > 0:
        wanted = max(1, min(MAX_ROUND_JOBS, room // largest))
        ids = [i.decode() for i in script(
            keys=[queue.key, queue.intermediate_queue_key],
            args=[wanted, ATTEMPTS_KEY, Job.redis_job_namespace_prefix, FRESH_RETRIES])]
        jobs = _fetch(redis, queue, ids)
        for job in jobs:
            count = len(job.args[0])
            absorbed.claimed.append(Claimed(job, job.args[0]))
            room, largest = room - count, max(largest, count)
        if len(ids) < wanted:
            break
    _start(redis, queue, leader, absorbed)
    return absorbed


def _fetch(redis: Redis, queue: Queue, ids: list[str]) -> list[Job]:
    """The claimed jobs; an id without a job (deleted meanwhile) or that is no ingest job goes
    back where RQ's dequeue handles it (the head of the queue)."""
    jobs = []
    for job_id, job in zip(ids, Job.fetch_many(ids, connection=redis)):
        if job is not None and job.func_name == INGEST_JOB:
            jobs.append(job)
            continue
        with redis.pipeline() as pipe:
            pipe.lpush(queue.key, job_id)
            pipe.lrem(queue.intermediate_queue_key, 1, job_id)
            pipe.execute()
    return jobs


def _start(redis: Redis, queue: Queue, leader: Job, absorbed: Absorbed) -> None:
    """What RQ does when a worker starts a job, for every claimed job, in one transaction."""
    if not absorbed.claimed:
        return
    worker_name = leader.worker_name or ""
    started, _ = _registries(leader)
    executions = []
    with redis.pipeline() as pipe:
        ttl = registry_ttl(leader)  # the batch runs within the leader's timeout
        for item in absorbed.claimed:
            job = item.job
            # Execution.create's writes; the worker's execution index gets one SADD for all.
            execution = item.execution = Execution(uuid4().hex, job.id, redis, worker_name)
            execution._job = job
            execution.save(ttl=ttl, pipeline=pipe)
            ExecutionRegistry(job_id=job.id, connection=pipe).add(execution, ttl, pipeline=pipe)
            started.add_execution(execution, pipeline=pipe, ttl=ttl)
            executions.append(execution.composite_key)
            job.prepare_for_execution(worker_name, pipeline=pipe)  # sets last_heartbeat too
            pipe.persist(job.key)
            pipe.lrem(queue.intermediate_queue_key, 1, job.id)
            pipe.hincrby(ATTEMPTS_KEY + job.id, "started", 1)
            pipe.expire(ATTEMPTS_KEY + job.id, ATTEMPTS_TTL_S)
        if worker_name:
            key = absorbed.claimed[0].execution.worker_executions_key
            pipe.sadd(key, *executions)
            pipe.expire(key, ttl + 60)
        pipe.execute()
    log.info("job %s took %d queued job(s) (%d envelopes) into its batch", leader.id,
             len(absorbed.claimed), len(absorbed.envelopes))


def _registries(job: Job) -> tuple[StartedJobRegistry, FinishedJobRegistry]:
    """The started and finished registries of ``job``'s queue, built once per batch."""
    return (StartedJobRegistry(job.origin, connection=job.connection, job_class=Job,
                               serializer=job.serializer),
            FinishedJobRegistry(job.origin, connection=job.connection, job_class=Job,
                                serializer=job.serializer))


def _count_on_worker(pipe, claimed: list[Claimed], counter: str) -> None:
    """The worker's job counters, as RQ keeps them (a job run outside a worker has none)."""
    if claimed and claimed[0].job.worker_name:
        pipe.hincrby(Worker.redis_worker_namespace_prefix + claimed[0].job.worker_name, counter,
                     len(claimed))
