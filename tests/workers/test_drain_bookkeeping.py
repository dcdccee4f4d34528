"""Claimed jobs' bookkeeping (``workers/ingest/drain.py``) leaves what RQ's own calls leave.

The drain starts and finishes claimed jobs with fewer Redis commands than RQ's
``Execution.create``/``Job.heartbeat``/``prepare_for_execution`` and
``_handle_success``/``cleanup``/``Execution.delete`` send. Here one job goes through RQ's own
calls and two through the drain's, on the same queue, and what RQ (and the ops dashboard) can
read of each is compared: status, fields, expiries, registries, executions, result.
"""
from __future__ import annotations

from rq import Queue
from rq.defaults import DEFAULT_RESULT_TTL
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job
from rq.utils import now

from queues.intake import RESULT_TTL_S, Intake
from workers.ingest import drain

WORKER = "w-bookkeeping"
VOLATILE = {"last_heartbeat", "started_at", "ended_at", "enqueued_at", "created_at",
            "data", "description"}  # differ per job; whether they are empty is compared


def queued(rt, count: int) -> list[Job]:
    intake = Intake(rt.redis)
    return [Job.fetch(intake.accept("email", "demo", "smtp", b"mail %d" % n)["job_id"],
                      connection=rt.redis) for n in range(count)]


def rq_start(rt, job: Job, ttl: int) -> Execution:
    """What the drain did with RQ's own calls before (and what RQ's worker does)."""
    queue = Queue("email", connection=rt.redis)
    rt.redis.lmove(queue.key, queue.intermediate_queue_key, "LEFT", "RIGHT")
    with rt.redis.pipeline() as pipe:
        execution = Execution.create(job, ttl, pipeline=pipe, worker_name=WORKER)
        job.heartbeat(now(), ttl, pipeline=pipe)
        job.prepare_for_execution(WORKER, pipeline=pipe)
        pipe.persist(job.key)
        pipe.lrem(queue.intermediate_queue_key, 1, job.id)
        pipe.execute()
    return execution


def rq_finish(rt, job: Job, execution: Execution, outcomes: list[str]) -> None:
    with rt.redis.pipeline() as pipe:
        job._result = outcomes
        job.ended_at = now()
        ttl = job.get_result_ttl(DEFAULT_RESULT_TTL)
        job._handle_success(ttl, pipeline=pipe, worker_name=WORKER, execution_id=execution.id,
                            execution_started_at=execution.created_at,
                            execution_ended_at=job.ended_at)
        job.cleanup(ttl, pipeline=pipe, remove_from_queue=False)
        execution.delete(job=job, pipeline=pipe)
        pipe.execute()


def seen(rt, job_id: str) -> dict:
    """What RQ can read of a job, without the values that differ from job to job."""
    redis, queue = rt.redis, Queue("email", connection=rt.redis)
    fields = {k.decode(): v.decode(errors="replace")
              for k, v in redis.hgetall(Job.redis_job_namespace_prefix + job_id).items()}
    job = Job.fetch(job_id, connection=redis)
    started = [m.decode() for m in redis.zrange(queue.started_job_registry.key, 0, -1)]
    mine = [m for m in started if m.startswith(job_id + ":")]
    workers = {m.decode() for m in
               redis.smembers(f"rq:worker:{WORKER}:executions")}
    executions = ExecutionRegistry(job_id, connection=redis)
    ttl = redis.ttl(job.key)
    return {
        "fields": {k: (v if k not in VOLATILE else bool(v)) for k, v in fields.items()},
        "status": job.get_status(),
        "args": job.args,
        "ttl": "none" if ttl == -1 else ("about result_ttl" if RESULT_TTL_S - 5 <= ttl
                                          <= RESULT_TTL_S else ttl),
        "in started registry": len(mine),
        "execution keys": len(redis.keys(f"rq:execution:{job_id}:*")),
        "executions registered": len(executions.get_execution_ids()),
        "in the worker's executions": sum(m.startswith(job_id + ":") for m in workers),
        "in finished registry": job_id in queue.finished_job_registry.get_job_ids(),
        "results": [(r.type, r.return_value, r.worker_name) for r in job.results()],
        "intermediate": redis.lpos(queue.intermediate_queue_key, job_id) is not None,
        "queued": job_id in queue.get_job_ids(),
    }


def without_args(state: dict) -> dict:
    return {k: v for k, v in state.items() if k != "args"}


def test_claimed_jobs_are_started_and_finished_as_rq_starts_and_finishes_a_job(rt):
    queue = Queue("email", connection=rt.redis)
    leader, *claimed = queued(rt, 3)
    assert rt.redis.lpop(queue.key).decode() == leader.id  # RQ handed the leader out
    leader.worker_name = WORKER
    absorbed = drain.claim(rt.redis, leader, 1)
    assert [c.job.id for c in absorbed.claimed] == [j.id for j in claimed]
    reference = queued(rt, 1)[0]
    execution = rq_start(rt, reference, drain.registry_ttl(leader))

    expected = without_args(seen(rt, reference.id))
    assert expected["status"] == "started" and expected["in started registry"] == 1
    assert expected["in the worker's executions"] == 1 and expected["ttl"] == "none"
    for job in claimed:
        assert without_args(seen(rt, job.id)) == expected
        assert seen(rt, job.id)["args"] == job.args

    rq_finish(rt, reference, execution, ["created"])
    with rt.redis.pipeline() as pipe:
        absorbed.finish(pipe, ["created", "duplicate"])
        pipe.execute()

    expected = without_args(seen(rt, reference.id))
    assert expected["status"] == "finished" and expected["in finished registry"]
    assert expected["results"][0][1] == ["created"] and expected["in started registry"] == 0
    assert expected["ttl"] == "about result_ttl" and expected["execution keys"] == 0
    first, second = (seen(rt, job.id) for job in claimed)
    assert without_args(first) == expected
    assert without_args(second) == {**expected, "results": [(expected["results"][0][0],
                                                              ["duplicate"], WORKER)]}
    assert first["args"] == claimed[0].args  # the job's arguments survive its finish
