"""Per-message isolation (issue 10, item 1): one message's failure quarantines only that message;
the infrastructure's failures raise so RQ retries the job. Real Redis, SQLite and PostgreSQL.
"""
from __future__ import annotations

import dataclasses
import io
import signal
import sqlite3
import time

import pytest
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from queues.intake import RAW_KEY, Intake, Submission
from store.models import Message, QuarantineEntry
from tests.conftest import make_runtime
from tests.integration.harness import free_port
from tests.integration.mails import customer_mail
from tests.workers import faults
from tests.workers.events import mail_event
from workers.ingest import normalize
from workers.ingest.batch import Item, store_items
from workers.ingest.job import ingest_with
from workers.ingest.isolation import MessageTooExpensive, Transient, cpu_budget, is_transient
from queues.replay import main as replay


def mail(number: int, fault: str | None = None) -> bytes:
    msg = customer_mail(subject=f"Case {number}", sender=f"c{number}@customer.test")
    if fault:
        msg["X-Test-Fault"] = fault
    return msg.as_bytes()


def queued(rt, raws: list[bytes]) -> list[dict]:
    """Enqueue ``raws`` as one job through the edges' intake; return the job's envelopes."""
    envelopes = Intake(rt.redis).accept_many(
        [Submission("email", "demo", "smtp", raw) for raw in raws])
    return Job.fetch(envelopes[0]["job_id"], connection=rt.redis).args[0]


def entries(rt) -> list[QuarantineEntry]:
    with rt.sessions() as session:
        return session.scalars(select(QuarantineEntry).order_by(QuarantineEntry.id)).all()


def subjects(rt) -> list[str]:
    with rt.sessions() as session:
        return sorted(session.scalars(select(Message.subject)))


@pytest.fixture
def faulty(monkeypatch):
    monkeypatch.setitem(normalize.ADAPTERS, "email", faults.ADAPTER)


def with_budget(rt, seconds: float):
    rt.settings = dataclasses.replace(rt.settings, message_cpu_budget_s=seconds)
    return rt


# --- one message's failure ---

def test_adapter_exception_quarantines_only_that_message(runtime, faulty):
    envelopes = queued(runtime, [mail(1), mail(2, "raise"), mail(3)])
    assert ingest_with(runtime, envelopes) == ["created", "quarantined", "created"]
    assert subjects(runtime) == ["Case 1", "Case 3"]
    [entry] = entries(runtime)
    assert entry.reason == "error"
    # type and message first; the NUL PostgreSQL would refuse is replaced
    assert entry.detail.startswith("ValueError: unknown encoding: 'x\ufffd'")
    assert runtime.blobs.exists(entry.envelope["raw_ref"])
    assert runtime.redis.get(RAW_KEY + entry.envelope["raw_ref"]) is None


def test_issue_reproductions_never_fail_their_batch(runtime):
    """The three mails of issue 10 that made the real email adapter raise: whether the parsers
    store them or quarantine them, their batch-mates are stored and nothing raises."""
    head = (b"From: a@customer.test\r\nTo: support@demo.test\r\nSubject: odd %d\r\n"
            b"Message-ID: <odd%d@customer.test>\r\nMIME-Version: 1.0\r\n"
            b"Content-Transfer-Encoding: 8bit\r\nContent-Type: ")
    odd = [head % (n, n) + part for n, part in enumerate([
        b'text/plain; charset="x\x00"\r\n\r\nhello \xe9\r\n',
        b"text/plain; charset=utf-7\r\n\r\n+2Qk- \xe9\r\n",
        b"text/html\r\n\r\n<p>hi</p><![ \r\n"])]
    outcomes = ingest_with(runtime, queued(runtime, [mail(1)] + odd + [mail(2)]))
    assert outcomes[0] == outcomes[-1] == "created"
    assert set(outcomes[1:-1]) <= {"created", "quarantined"}
    assert {"Case 1", "Case 2"} <= set(subjects(runtime))
    for entry in entries(runtime):
        assert runtime.blobs.exists(entry.envelope["raw_ref"])


def test_pipeline_step_exception_quarantines_only_that_event(runtime):
    config = runtime.config.workspace("demo")
    broken = mail_event("broken@x", subject="Broken")
    broken.sender = None  # an event no step foresaw: identify cannot read its sender
    items = [Item(envelope={"workspace": "demo", "channel": "email", "raw_ref": "ab" * 32},
                  config=config, event=event)
             for event in (mail_event("a@x", subject="A"), broken,
                           mail_event("b@x", subject="B", sender="b@customer.test"))]
    store_items(runtime, items)
    assert [i.outcome for i in items] == ["created", "quarantined", "created"]
    [entry] = entries(runtime)
    assert entry.reason == "error" and entry.detail.startswith("AttributeError")


def test_quarantined_error_replays_once_the_adapter_is_fixed(runtime, faulty, monkeypatch):
    ingest_with(runtime, queued(runtime, [mail(1, "raise")]))
    [entry] = entries(runtime)
    monkeypatch.setitem(normalize.ADAPTERS, "email", normalize.normalize_email)
    assert replay(["quarantine", "--id", str(entry.id)], runtime, out=io.StringIO()) == 0
    replayed = Queue("email", connection=runtime.redis).jobs[-1]  # after the original job
    assert replayed.args[0][0]["replay_of"] == entry.id
    assert ingest_with(runtime, replayed.args[0]) == ["created"]
    assert subjects(runtime) == ["Case 1"]


# --- the per-message CPU budget ---

def test_message_over_its_cpu_budget_is_quarantined_too_expensive(runtime, faulty):
    with_budget(runtime, 0.3)
    started = time.monotonic()
    outcomes = ingest_with(runtime, queued(runtime, [mail(1), mail(2, "burn"), mail(3)]))
    assert outcomes == ["created", "quarantined", "created"]
    assert time.monotonic() - started < 30  # the burner alone would never end
    [entry] = entries(runtime)
    assert entry.reason == "too_expensive" and "0.3 s of CPU" in entry.detail
    assert runtime.blobs.exists(entry.envelope["raw_ref"])


def test_out_of_memory_is_quarantined_too_expensive(sqlite_runtime, faulty):
    outcomes = ingest_with(sqlite_runtime, queued(sqlite_runtime, [mail(1, "memory"), mail(2)]))
    assert outcomes == ["quarantined", "created"]
    assert entries(sqlite_runtime)[0].reason == "too_expensive"


def test_cpu_budget_counts_cpu_time_not_waiting():
    with cpu_budget(0.2):
        time.sleep(0.5)  # half a second of wall time, next to no CPU


def test_cpu_budget_leaves_rqs_alarm_alone_and_restores_its_own_signal():
    alarm, prof = signal.getsignal(signal.SIGALRM), signal.getsignal(signal.SIGPROF)
    with pytest.raises(MessageTooExpensive):
        with cpu_budget(0.1):
            faults.burn_cpu()
    assert signal.getsignal(signal.SIGALRM) is alarm
    assert signal.getsignal(signal.SIGPROF) is prof
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


# --- the infrastructure's failures raise (RQ retries the job) ---

def test_redis_down_raises_and_quarantines_nothing(database_url, tmp_path, test_config,
                                                   redis_conn, redis_url):
    envelopes = queued(make_runtime(database_url, redis_url, tmp_path, test_config), [mail(1)])
    dead = make_runtime(database_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path,
                        test_config)
    with pytest.raises(RedisError):
        ingest_with(dead, envelopes)
    assert entries(dead) == []


@pytest.mark.parametrize("unreachable", ["sqlite:////nonexistent/dir/store.db",
                                         "postgresql+psycopg://postgres@127.0.0.1:1/none"])
def test_database_down_raises_and_the_retry_stores(runtime, tmp_path, test_config, unreachable):
    envelopes = queued(runtime, [mail(1), mail(2)])
    down = make_runtime(unreachable, runtime.settings.redis_url, tmp_path, test_config)
    with pytest.raises(OperationalError):
        ingest_with(down, envelopes)
    assert ingest_with(runtime, envelopes) == ["created", "created"]  # RQ's retry
    assert entries(runtime) == []


def test_transient_failure_in_a_channel_raises(sqlite_runtime, faulty):
    envelopes = queued(sqlite_runtime, [mail(1), mail(2, "transient")])
    with pytest.raises(Transient):
        ingest_with(sqlite_runtime, envelopes)
    assert entries(sqlite_runtime) == []


# --- which database errors are transient: by the driver's error code ---

def database_error(engine, *statements, **params) -> DBAPIError:
    with pytest.raises(DBAPIError) as raised:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), params)
    return raised.value


def test_postgres_limit_bound_to_the_input_is_not_transient(migrated_postgres):
    """An index row over PostgreSQL's limit: an OperationalError (SQLSTATE 54000) that the same
    message hits on every retry, so it is the message's failure."""
    error = database_error(
        migrated_postgres, "CREATE TEMP TABLE wide (v text PRIMARY KEY)",
        "INSERT INTO wide SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i")
    assert isinstance(error, OperationalError) and error.orig.sqlstate == "54000"
    assert not is_transient(error)


def test_postgres_unreachable_is_transient():
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert is_transient(database_error(engine, "SELECT 1"))


def test_sqlite_lock_is_transient_and_too_many_variables_is_not(tmp_path):
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    engine = create_engine(url, connect_args={"timeout": 0})
    holder = sqlite3.connect(tmp_path / "locks.db")
    holder.execute("BEGIN IMMEDIATE")
    assert is_transient(database_error(engine, "CREATE TABLE t (v int)"))
    holder.rollback()
    many = ", ".join(f":p{i}" for i in range(40_000))
    error = database_error(engine, f"SELECT {many}", **{f"p{i}": i for i in range(40_000)})
    assert error.orig.sqlite_errorname == "SQLITE_ERROR" and not is_transient(error)
