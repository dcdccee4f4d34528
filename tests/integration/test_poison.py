"""Poison messages against real worker processes (issue 10, item 1).

A mail whose normalizing kills its worker with SIGKILL (as the OOM killer would) and a mail
whose adapter raises, each in a batch of ordinary mail enqueued as one job (the way the IMAP
poller and the edges' group commits enqueue): the ordinary mail is stored, the bad one ends in
the quarantine (``poison``, ``error``) where the API lists it and can replay it, and RQ's
failed registry stays empty. Workers run ``tests/integration/fault_worker.py``: the real
``workers.run`` with the fault injector of ``tests/workers/faults.py`` as email adapter.
"""
from __future__ import annotations

import signal
import time

import pytest
from rq import Queue
from sqlalchemy import select

from queues.intake import Intake, Submission
from gateway.web import create_app
from store.models import Message, QuarantineEntry
from tests.conftest import DEMO_KEY
from tests.integration.harness import process_env, start_worker
from tests.workers.test_isolation import mail

pytestmark = pytest.mark.integration
FAULT_WORKER = "tests.integration.fault_worker"
MAX_WORKER_RUNS = 15  # 4 deaths, the halves, a retry's backoff: about 8 are needed


def enqueue_batch(rt, raws: list[bytes]) -> None:
    Intake(rt.redis, job_timeout=5).accept_many(
        [Submission("email", "demo", "smtp", raw) for raw in raws])


def run_fault_workers(rt, env) -> int:
    """Burst workers, one after the other, until the queue is done; return how many died.

    A dead worker's job stays in RQ's started registry; RQ's maintenance re-queues it once
    its heartbeat expires (job timeout + 10 s, tested in test_failures.py). The test runs that
    maintenance pass itself as soon as it saw the worker die, instead of waiting.
    """
    queue = Queue("email", connection=rt.redis)
    deaths = 0
    for _ in range(MAX_WORKER_RUNS):
        worker = start_worker(env, module=FAULT_WORKER)
        output, _ = worker.communicate(timeout=60)
        if worker.returncode == -signal.SIGKILL:
            deaths += 1
            queue.started_job_registry.cleanup(timestamp=time.time() + 3600)
        else:
            assert worker.returncode == 0, output.decode(errors="replace")[-3000:]
        if queue.count == 0 and queue.started_job_registry.count == 0:
            if queue.scheduled_job_registry.count == 0:
                return deaths
            time.sleep(1)  # the backoff of a job's second retry
    raise AssertionError(f"queue not done after {MAX_WORKER_RUNS} workers")


def subjects(rt) -> list[str]:
    with rt.sessions() as session:
        return sorted(session.scalars(select(Message.subject)))


def entries(rt) -> list[QuarantineEntry]:
    with rt.sessions() as session:
        return session.scalars(select(QuarantineEntry)).all()


def api(rt):
    client = create_app(rt).test_client()
    headers = {"Authorization": f"Bearer {DEMO_KEY}"}
    return lambda method, path: getattr(client, method)(path, headers=headers)


def test_message_that_kills_its_worker_ends_quarantined_poison(runtime, api_keys, tmp_path):
    enqueue_batch(runtime, [mail(1), mail(2), mail(3), mail(4, "kill")])
    deaths = run_fault_workers(runtime, process_env(runtime, tmp_path))
    assert deaths == 4  # the batch of 4, its half of 2, the poison alone twice
    assert subjects(runtime) == ["Case 1", "Case 2", "Case 3"]
    [entry] = entries(runtime)
    assert entry.reason == "poison"
    assert runtime.blobs.exists(entry.envelope["raw_ref"])
    assert Queue("email", connection=runtime.redis).failed_job_registry.count == 0
    call = api(runtime)
    [listed] = call("get", "/api/v1/quarantine").get_json()["entries"]
    assert listed["reason"] == "poison"
    assert call("post", f"/api/v1/quarantine/{listed['id']}/replay").status_code == 202


def test_a_killer_among_claimed_jobs_ends_quarantined_poison(runtime, tmp_path):
    """Four jobs of one mail each: the first worker takes them into one batch and dies with
    it; RQ re-queues all four, each runs alone (it died once), the killer twice more."""
    intake = Intake(runtime.redis, job_timeout=5)
    for raw in (mail(1), mail(2), mail(3), mail(4, "kill")):
        intake.accept("email", "demo", "smtp", raw)
    deaths = run_fault_workers(runtime, process_env(runtime, tmp_path))
    assert deaths == 2  # the batch of four, then the killer alone (its second death)
    assert subjects(runtime) == ["Case 1", "Case 2", "Case 3"]
    [entry] = entries(runtime)
    assert entry.reason == "poison"
    assert Queue("email", connection=runtime.redis).failed_job_registry.count == 0


def test_message_whose_adapter_raises_ends_quarantined_error(runtime, api_keys, tmp_path):
    enqueue_batch(runtime, [mail(1), mail(2, "raise"), mail(3)])
    assert run_fault_workers(runtime, process_env(runtime, tmp_path)) == 0
    assert subjects(runtime) == ["Case 1", "Case 3"]
    [entry] = entries(runtime)
    assert entry.reason == "error" and entry.detail.startswith("ValueError")
    assert Queue("email", connection=runtime.redis).failed_job_registry.count == 0
    [listed] = api(runtime)("get", "/api/v1/quarantine").get_json()["entries"]
    assert listed["reason"] == "error"
