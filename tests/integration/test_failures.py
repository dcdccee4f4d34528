"""Failures that must lose nothing: Redis down during SMTP, a worker killed mid-job or mid-batch
(holding further queued jobs it claimed, ``workers/ingest/drain.py``)."""
from __future__ import annotations

import signal
import smtplib
import sqlite3
import time

import pytest
from rq import Queue
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from gateway.ops import embedded_redis
from store.models import Message
from tests.conftest import make_runtime
from tests.integration.harness import kill_group, process_env, smtp_edge, start_worker
from tests.integration.mails import customer_mail

pytestmark = pytest.mark.integration
RECOVERY_DEADLINE_S = 60  # job timeout + heartbeat grace + scheduler retry, with slack


def stored_messages(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Message))


def wait_for(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.fixture
def own_redis(tmp_path):
    """An embedded Redis of this test's own, which the test may stop and restart."""
    process, url = embedded_redis.start(tmp_path / "redis")
    server = {"process": process, "url": url, "dir": tmp_path / "redis"}
    yield server
    server["process"].terminate()  # the test may have replaced it by a restarted one
    server["process"].wait()


def test_redis_down_gives_451_and_resent_mail_is_stored_once(database_url, own_redis, tmp_path,
                                                             test_config):
    runtime = make_runtime(database_url, own_redis["url"], tmp_path, test_config)
    msg = customer_mail()
    with smtp_edge(runtime) as edge:
        own_redis["process"].terminate()
        own_redis["process"].wait()
        with smtplib.SMTP(edge.hostname, edge.port) as client:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.send_message(msg)
        assert refused.value.smtp_code == 451
        own_redis["process"], _ = embedded_redis.start(own_redis["dir"])
        with smtplib.SMTP(edge.hostname, edge.port) as client:
            client.send_message(msg)
            client.send_message(msg)  # the sender's retry and a duplicate delivery
    worker = start_worker(process_env(runtime, tmp_path))
    assert worker.wait(timeout=60) == 0
    assert stored_messages(runtime) == 1


def test_worker_killed_mid_job_loses_nothing(sqlite_runtime, tmp_path):
    runtime = sqlite_runtime
    with smtp_edge(runtime, job_timeout=3) as edge:
        with smtplib.SMTP(edge.hostname, edge.port) as client:
            client.send_message(customer_mail())
    env = process_env(runtime, tmp_path)
    kill_worker_mid_job(runtime, env, jobs=1)
    assert stored_messages(runtime) == 0
    survivor = start_worker(env, burst=False)
    recovered = wait_for(lambda: stored_messages(runtime) == 1, timeout=RECOVERY_DEADLINE_S)
    kill_group(survivor, signal.SIGTERM)
    output, _ = survivor.communicate(timeout=20)
    assert recovered, output.decode(errors="replace")[-3000:]
    assert Queue("email", connection=runtime.redis).count == 0


def test_worker_killed_mid_batch_of_claimed_jobs_loses_nothing(sqlite_runtime, tmp_path):
    """Five mails, five jobs (one SMTP session each); the worker takes all five into one
    batch and is killed before it commits: RQ re-queues every job, each is stored once."""
    runtime = sqlite_runtime
    with smtp_edge(runtime, job_timeout=3) as edge:
        for number in range(5):
            with smtplib.SMTP(edge.hostname, edge.port) as client:
                client.send_message(customer_mail(subject=f"Case {number}",
                                                  sender=f"c{number}@customer.test"))
    queue = Queue("email", connection=runtime.redis)
    assert queue.count == 5
    env = process_env(runtime, tmp_path)
    started = kill_worker_mid_job(runtime, env, jobs=5)
    assert stored_messages(runtime) == 0 and queue.count == 0
    survivor = start_worker(env, burst=False)
    recovered = wait_for(lambda: stored_messages(runtime) == 5 and queue.count == 0
                         and started.count == 0, timeout=RECOVERY_DEADLINE_S)
    kill_group(survivor, signal.SIGTERM)
    output, _ = survivor.communicate(timeout=20)
    assert recovered, output.decode(errors="replace")[-3000:]
    assert stored_messages(runtime) == 5
    assert queue.failed_job_registry.count == 0


def kill_worker_mid_job(runtime, env: dict, jobs: int) -> StartedJobRegistry:
    """Start a worker, let it take ``jobs`` jobs into its batch, SIGKILL it before it commits
    (its transaction waits on a lock held here), release the lock; the started registry."""
    blocker = sqlite3.connect(runtime.settings.database_url.removeprefix("sqlite:///"))
    blocker.execute("BEGIN IMMEDIATE")  # the worker's transaction now waits on this lock
    worker = start_worker(env, burst=False)
    started = StartedJobRegistry("email", connection=runtime.redis)
    took = wait_for(lambda: started.count == jobs, timeout=20)
    kill_group(worker)  # SIGKILL, mid-job (or a worker that failed the test: none outlives it)
    worker.wait()
    blocker.rollback()
    assert took, "worker never took the jobs"
    return started
