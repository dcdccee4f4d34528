"""Group commit of concurrent chat requests: one Redis transaction, every request answered."""
from __future__ import annotations

import threading

import pytest
import redis

from queues.http_batch import ThreadGroupCommit
from queues.intake import Intake, IntakeUnavailable, RAW_KEY, Submission
from tests.integration.harness import free_port


def submission(n: int) -> Submission:
    return Submission("chat", "demo", "widget", f"message {n}".encode())


def run_concurrently(group: ThreadGroupCommit, intake: Intake, count: int) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def one(n: int) -> None:
        with group.request():
            barrier.wait()
            try:
                results[n] = group.submit(intake, submission(n))
            except Exception as exc:  # recorded for the assertions
                results[n] = exc
    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_concurrent_requests_share_one_write_and_all_get_their_envelope(redis_conn):
    intake = Intake(redis_conn)
    envelopes = run_concurrently(ThreadGroupCommit(), intake, 8)
    assert all(isinstance(e, dict) for e in envelopes), envelopes
    for n, envelope in enumerate(envelopes):
        assert redis_conn.get(RAW_KEY + envelope["raw_ref"]) == f"message {n}".encode()
    assert len({e["job_id"] for e in envelopes}) < 8  # batched: fewer jobs than requests


def test_a_lone_request_is_written_at_once(redis_conn):
    group = ThreadGroupCommit()
    with group.request():
        envelope = group.submit(Intake(redis_conn), submission(1))
    assert redis_conn.exists(RAW_KEY + envelope["raw_ref"])


def test_redis_down_fails_every_request_of_the_batch():
    intake = Intake(redis.Redis(port=free_port(), socket_connect_timeout=1))
    results = run_concurrently(ThreadGroupCommit(), intake, 4)
    assert all(isinstance(r, IntakeUnavailable) for r in results), results


def test_leadership_is_handed_back_between_bursts(redis_conn):
    group, intake = ThreadGroupCommit(), Intake(redis_conn)
    for _ in range(3):
        assert all(isinstance(e, dict) for e in run_concurrently(group, intake, 5))


def test_nonces_of_a_batch_are_claimed_together_and_replays_left_out(redis_conn):
    from queues.http_batch import Nonce, Replayed
    group, intake = ThreadGroupCommit(), Intake(redis_conn)
    first = group.submit(intake, Submission("chat", "demo", "widget", b"one"), Nonce("n:1", 60))
    with pytest.raises(Replayed):
        group.submit(intake, Submission("chat", "demo", "widget", b"two"), Nonce("n:1", 60))
    assert first["raw_ref"] and redis_conn.llen("rq:queue:chat") == 1
    assert 0 < redis_conn.ttl("n:1") <= 60


def test_a_failed_write_remembers_no_nonce(redis_conn):
    from queues.http_batch import Nonce
    unknown_queue = Submission("no-such-channel", "demo", "widget", b"x")  # accept_many fails
    with pytest.raises(KeyError):
        ThreadGroupCommit().submit(Intake(redis_conn), unknown_queue, Nonce("n:2", 60))
    assert redis_conn.exists("n:2") == 0
    assert redis_conn.llen("rq:queue:chat") == 0
