"""The worker process (workers/run.py): it exits promptly once its work is done.

Regression of issue 10 item 11: RQ unsubscribes before it stops its pub/sub listener thread,
and redis-py 8 joins that thread without a timeout, so a burst worker could linger 60 s after
"done, quitting" (the racing integration test timed out).
"""
from __future__ import annotations

import json
import time

from workers.run import LISTENER_JOIN_S, IngestWorker


def wait_for(predicate, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def subscribed_worker(redis_conn) -> IngestWorker:
    worker = IngestWorker(["email"], connection=redis_conn)
    worker.subscribe()
    assert wait_for(lambda: worker.pubsub.subscribed), "listener never subscribed"
    return worker


def test_unsubscribe_ends_the_listener_thread_at_once(redis_conn):
    worker = subscribed_worker(redis_conn)
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < LISTENER_JOIN_S
    assert not worker.pubsub_thread.is_alive()


def test_unsubscribe_is_bounded_when_the_listener_already_went_idle(redis_conn):
    """The interleaving RQ's own order allows: the listener read the UNSUBSCRIBE confirmation
    before it was told to stop, and now waits for a new subscription (60 s in RQ)."""
    worker = subscribed_worker(redis_conn)
    worker.pubsub.unsubscribe()
    assert wait_for(lambda: not worker.pubsub.subscribed), "confirmation never read"
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < LISTENER_JOIN_S + 3


def test_unsubscribe_after_the_listener_closed_its_connection_opens_none(redis_conn):
    """The listener saw the stop flag first and closed its connection (which ends the
    subscription on the server): unsubscribing must not open a new connection to send an
    UNSUBSCRIBE nobody needs, nor fail on the closed one."""
    worker = subscribed_worker(redis_conn)
    worker.pubsub_thread.stop(timeout=0)
    redis_conn.publish(worker.pubsub_channel_name, json.dumps({"command": "none"}))
    assert wait_for(lambda: not worker.pubsub_thread.is_alive()), "listener never woke"
    assert worker.pubsub.connection is None
    worker.unsubscribe()
    assert worker.pubsub.connection is None


def test_a_channel_worker_loads_the_language_model_before_its_first_job(tmp_path, monkeypatch):
    from queues.runtime import runtime
    from routing import language
    from workers.run import warm_up
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/store.db")
    monkeypatch.setenv("BLOB_DIR", str(tmp_path / "blobs"))
    monkeypatch.setattr(language, "_identifiers", {})
    runtime.cache_clear()
    try:
        warm_up("outbound")
        assert language._identifiers == {}
        warm_up("email")
        assert frozenset() in language._identifiers
    finally:
        runtime.cache_clear()
