"""The database goes away while mail keeps arriving: nothing is lost, work resumes by itself."""
from __future__ import annotations

import signal
import smtplib
import time

import pytest
from sqlalchemy import func, select

from store.models import Message
from tests.conftest import make_runtime
from tests.integration.harness import kill_group, process_env, smtp_edge, start_worker
from tests.integration.mails import customer_mail
from tests.integration.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration
OUTAGE_S = 4           # how long the database is unreachable
START_DEADLINE_S = 60  # the worker starts and stores the first mail
# Recovery takes seconds (backoff 0, 1, 2, 5, 10 s); the rest is margin. A scheduler lock left by
# a SIGKILLed worker would delay retries by up to 76 s (its 61 s TTL, then this worker's next 15 s
# maintenance pass takes it), but the Redis fixture empties the database before each test.
RECOVERY_DEADLINE_S = 150


def test_worker_retries_through_a_database_outage(migrated_postgres, redis_url, redis_conn,
                                                   tmp_path, test_config):
    from tests.conftest import POSTGRES_URL, _truncate_postgres
    _truncate_postgres(migrated_postgres)
    proxy = TcpProxy(("127.0.0.1", migrated_postgres.url.port or 5432))
    proxy.start()
    url = POSTGRES_URL.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    runtime = make_runtime(url, redis_url, tmp_path, test_config)
    direct = make_runtime(POSTGRES_URL, redis_url, tmp_path, test_config)
    with smtp_edge(runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as client:
        client.send_message(customer_mail())
    worker = start_worker(process_env(runtime, tmp_path), burst=False)
    wait_for_stored(direct, 1, START_DEADLINE_S)  # the worker is up and holds a pooled connection
    proxy.stop()
    with smtp_edge(runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as client:
        client.send_message(customer_mail(subject="Sent while the database is down"))
    time.sleep(OUTAGE_S)
    proxy.start()
    wait_for_stored(direct, 2, RECOVERY_DEADLINE_S)
    kill_group(worker, signal.SIGTERM)
    output, _ = worker.communicate(timeout=20)
    proxy.stop()
    assert stored(direct) == 2, output.decode(errors="replace")[-3000:]


def wait_for_stored(runtime, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while stored(runtime) < count and time.monotonic() < deadline:
        time.sleep(0.5)


def stored(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Message))
