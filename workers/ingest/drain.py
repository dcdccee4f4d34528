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
   queue's intermediate list with ``LMOVE``, exactly as RQ's own safe dequeue does, and
   returns the job's data and result TTL (no second round trip to fetch the jobs).
2. ``START`` (one Lua script) then does for every claimed job what RQ does when a worker
   starts a job: an execution in the ``StartedJobRegistry`` (expiring when the leader's
   does), status ``started``, the job's entry leaves the intermediate list; and counts the
   job's attempt for ``workers.ingest.poison``.
3. After the leader committed the batch, ``FINISH`` (one Lua script, in the transaction of
   the leader's own finish) finishes every claimed job as RQ finishes a successful one
   (result, finished registry, execution removed); on a transient failure each is retried
   with RQ's ``Retry`` of its own (``give_back``, with RQ's own calls).

Steps 2 and 3 write what RQ's own calls write, without their redundant writes (a second
heartbeat field, the whole job hash re-saved at the finish, expiries of dependency keys that
ingest jobs never have): see tests/workers/test_drain_bookkeeping.py. They are Lua scripts
rather than pipelines of RQ's calls because a claimed job costs a leader one script argument
list instead of 20 commands packed and 20 replies parsed in Python (``bench.drain_cost``).

A worker killed between 1 and 2 leaves the ids in the intermediate list, which RQ's
maintenance hands to the retry after a minute; killed later, the executions in the started
registry expire and RQ's maintenance re-queues each job (every ingest job carries ``Retry``).
Their attempt counts then say they died once, so each runs alone and a killer among them is
found by halving, as before (``workers.ingest.poison``).

Only *fresh* jobs are claimed: never attempted (no attempt count in Redis), never retried
(``retries_left`` as enqueued) and keeping their result (a positive result TTL, as every
ingest job's). A job that died or failed before runs alone, as RQ hands it
out, and a leader that died before claims nothing.
"""
from __future__ import annotations

import logging
import os
import zlib
from base64 import b64encode
from dataclasses import dataclass, field
from uuid import uuid4

from redis import Redis
from rq import Queue
from rq.defaults import DEFAULT_RESULT_TTL, RQ_KEY_PREFIX
from rq.executions import Execution, ExecutionRegistry, WORKER_EXECUTIONS_KEY_TEMPLATE
from rq.job import Job
from rq.registry import FinishedJobRegistry, StartedJobRegistry
from rq.results import Result
from rq.serializers import DefaultSerializer
from rq.utils import current_timestamp, now, utcformat
from rq.worker import Worker

from queues.intake import INGEST_JOB, JOB_TIMEOUT_S, RETRY_INTERVALS_S
from workers.ingest.drain_scripts import CLAIM, FINISH, START

log = logging.getLogger(__name__)

# A leader claims jobs until its batch holds this many envelopes; INGEST_BATCH_MAX sets another
# bound (1: no claiming, a batch is one job, as the edge's group commit made it).
MAX_BATCH_ENVELOPES = int(os.environ.get("INGEST_BATCH_MAX") or 100)
MAX_ROUND_JOBS = 32        # jobs claimed per round trip at most
# The first round's jobs at most: the leader's own size says little about the jobs behind it (a
# leader of 1 envelope sized a first round of 32 jobs of 16 envelopes: batches of 500).
FIRST_ROUND_JOBS = 4
# A running job's registry entry expires this long after its timeout. A SimpleWorker runs the job
# in-process (a death penalty stops it at its timeout), so RQ's default 60 s slack only delays
# the recovery of jobs whose worker was killed.
HEARTBEAT_GRACE_S = 10
ATTEMPTS_KEY = "ticketgate:attempts:"  # + job id: hash {started: attempts, split: 1 once split}
ATTEMPTS_TTL_S = 24 * 3600  # seconds; outlives any retry backoff of a job that died
FRESH_RETRIES = str(len(RETRY_INTERVALS_S))
EXECUTION_KEY = f"{RQ_KEY_PREFIX}:execution:"  # + job id + ":" + execution id (Execution.key)
EXECUTIONS_KEY = ExecutionRegistry.key_template.format("")  # + job id
RESULTS_KEY = Result.get_key("")    # + job id
SUCCESSFUL = str(Result.Type.SUCCESSFUL.value)


def registry_ttl(job: Job) -> int:
    """Seconds a started job stays in the started registry without its worker finishing it."""
    return int(job.timeout or JOB_TIMEOUT_S) + HEARTBEAT_GRACE_S


@dataclass
class Claimed:
    """One job taken into a leader's batch, with its RQ execution."""
    id: str
    envelopes: list[dict]
    result_ttl: int
    connection: Redis
    execution_id: str = ""
    started_at: float = 0.0  # the execution's created_at (a timestamp)
    _job: Job | None = None

    @property
    def job(self) -> Job:
        """The RQ job as RQ reads it now (fetched when first asked for)."""
        if self._job is None:
            self._job = Job.fetch(self.id, connection=self.connection)
        return self._job


@dataclass
class Absorbed:
    """The jobs a leader claimed: their envelopes follow the leader's own in the batch."""
    claimed: list[Claimed] = field(default_factory=list)
    queue: str = ""
    worker_name: str = ""

    @property
    def envelopes(self) -> list[dict]:
        return [e for c in self.claimed for e in c.envelopes]

    def finish(self, pipe, outcomes: list[str]) -> None:
        """Add to ``pipe`` what finishes every claimed job as a success (RQ's bookkeeping),
        each with its share of ``outcomes`` (the batch's outcomes after the leader's own).

        The writes of RQ's ``Job._handle_success``, ``Job.cleanup`` and ``Execution.delete``
        (``FINISH``) with two cuts (see "Claimed jobs' bookkeeping" in docs/architecture.md):
        the job hash gets only the fields that changed (status, ended_at) instead of the whole
        job re-serialized with its arguments, and the expiries of dependency keys that ingest
        jobs never have are not sent.
        """
        if not self.claimed:
            return
        ended = now()
        args = [self.worker_name, utcformat(ended), repr(ended.timestamp()),
                current_timestamp(), Job.redis_job_namespace_prefix, RESULTS_KEY, EXECUTION_KEY,
                EXECUTIONS_KEY, ATTEMPTS_KEY, SUCCESSFUL]
        for item in self.claimed:
            mine, outcomes = outcomes[:len(item.envelopes)], outcomes[len(item.envelopes):]
            args += [item.id, item.execution_id, item.result_ttl,
                     b64encode(DefaultSerializer.dumps(mine)), repr(item.started_at)]
        started, finished = _registry_keys(self.queue)
        # EVAL, not EVALSHA: a script Redis lost (a restart) must not fail inside the MULTI
        pipe.eval(FINISH, 3, started, finished, _worker_executions_key(self.worker_name), *args)
        _count_on_worker(pipe, self, "successful_job_count")

    def give_back(self, redis: Redis, died: bool) -> None:
        """Hand every claimed job back to RQ as a failed attempt: re-queued by its ``Retry``.

        ``died`` keeps their attempt counts (the leader died in a way that may be a message's:
        each then runs alone); a transient failure is no death and clears them.
        """
        if not self.claimed:
            return
        queue = Queue(self.queue, connection=redis)
        jobs = Job.fetch_many([item.id for item in self.claimed], connection=redis)
        with redis.pipeline() as pipe:
            for item, job in zip(self.claimed, jobs):
                if not died:
                    pipe.delete(ATTEMPTS_KEY + item.id)
                if job is None:  # deleted meanwhile: nothing to retry
                    continue
                job.ended_at = now()
                execution = Execution(item.execution_id, item.id, redis, self.worker_name)
                execution.delete(job=job, pipeline=pipe)
                job.retry(queue, pipe)
            _count_on_worker(pipe, self, "failed_job_count")
            pipe.execute()
        log.info("gave back %d claimed job(s) to their retries", len(self.claimed))


def claim(redis: Redis, leader: Job, own_envelopes: int) -> Absorbed:
    """Claim fresh ingest jobs queued behind ``leader`` until the batch holds
    ``MAX_BATCH_ENVELOPES`` envelopes.

    Rounds of at most ``MAX_ROUND_JOBS`` jobs, each sized by the largest job seen so far, so
    the bound is passed only by a round whose jobs are larger than every earlier one; the
    first, before any queued job was seen, takes at most ``FIRST_ROUND_JOBS``.
    """
    queue = Queue(leader.origin, connection=redis)
    script = redis.register_script(CLAIM)
    absorbed = Absorbed(queue=leader.origin, worker_name=leader.worker_name or "")
    room, largest = MAX_BATCH_ENVELOPES - own_envelopes, max(own_envelopes, 1)
    most = FIRST_ROUND_JOBS
    while room > 0:
        wanted = max(1, min(most, room // largest))
        most = MAX_ROUND_JOBS
        found = script(keys=[queue.key, queue.intermediate_queue_key],
                       args=[wanted, ATTEMPTS_KEY, Job.redis_job_namespace_prefix, FRESH_RETRIES])
        claimed, complete = _decode(redis, queue, found)
        for item in claimed:
            absorbed.claimed.append(item)
            room, largest = room - len(item.envelopes), max(largest, len(item.envelopes))
        if len(found) < 3 * wanted or not complete:
            break
    _start(redis, leader, absorbed)
    return absorbed


def _decode(redis: Redis, queue: Queue, found: list) -> tuple[list[Claimed], bool]:
    """The claimed jobs from ``CLAIM``'s triples (id, data, result TTL), and whether all were
    ingest jobs; one that is not (or whose data RQ could not read) goes back where RQ's dequeue
    handles it (the head of the queue), and claiming stops there."""
    claimed = []
    for index in range(0, len(found), 3):
        job_id, data, ttl = found[index].decode(), found[index + 1], found[index + 2]
        envelopes = _ingest_args(data)
        if envelopes is None:
            with redis.pipeline() as pipe:
                for rest in range(len(found) - 3, index - 3, -3):  # back in their order
                    pipe.lpush(queue.key, found[rest])
                    pipe.lrem(queue.intermediate_queue_key, 1, found[rest])
                pipe.execute()
            return claimed, False
        claimed.append(Claimed(job_id, envelopes, int(ttl) if ttl else DEFAULT_RESULT_TTL,
                               redis))
    return claimed, True


def _ingest_args(data: bytes) -> list[dict] | None:
    """The envelopes of an ingest job's data as RQ reads it (``Job.restore``); None when the
    job is no ingest job."""
    try:
        data = zlib.decompress(data)
    except zlib.error:
        pass  # RQ reads uncompressed data too
    try:
        func_name, _, args, _ = DefaultSerializer.loads(data)
    except Exception:
        return None
    if func_name != INGEST_JOB or len(args) != 1 or not isinstance(args[0], list):
        return None
    return args[0]


def _start(redis: Redis, leader: Job, absorbed: Absorbed) -> None:
    """What RQ does when a worker starts a job, for every claimed job, in one script."""
    if not absorbed.claimed:
        return
    ttl = registry_ttl(leader)  # the batch runs within the leader's timeout
    started = now()
    stamp, base = started.timestamp(), current_timestamp()
    args = [absorbed.worker_name, repr(stamp), utcformat(started), ttl, base + ttl,
            base + ttl + 60, Job.redis_job_namespace_prefix, EXECUTION_KEY, EXECUTIONS_KEY,
            ATTEMPTS_KEY, ATTEMPTS_TTL_S]
    for item in absorbed.claimed:
        item.execution_id, item.started_at = uuid4().hex, stamp
        args += [item.id, item.execution_id]
    registry, _ = _registry_keys(absorbed.queue)
    redis.register_script(START)(keys=[
        registry, Queue(absorbed.queue, connection=redis).intermediate_queue_key,
        _worker_executions_key(absorbed.worker_name)], args=args)
    log.info("job %s took %d queued job(s) (%d envelopes) into its batch", leader.id,
             len(absorbed.claimed), len(absorbed.envelopes))


def _registry_keys(queue: str) -> tuple[str, str]:
    """The keys of ``queue``'s started and finished registries."""
    return (StartedJobRegistry.key_template.format(queue),
            FinishedJobRegistry.key_template.format(queue))


def _worker_executions_key(worker_name: str) -> str:
    """The worker's execution index (RQ keeps one only for a named worker); '' for none."""
    return WORKER_EXECUTIONS_KEY_TEMPLATE.format(worker_name) if worker_name else ""


def _count_on_worker(pipe, absorbed: Absorbed, counter: str) -> None:
    """The worker's job counters, as RQ keeps them (a job run outside a worker has none)."""
    if absorbed.claimed and absorbed.worker_name:
        pipe.hincrby(Worker.redis_worker_namespace_prefix + absorbed.worker_name, counter,
                     len(absorbed.claimed))
