"""Pacing of big DATA (gateway/edges/smtp/pace.py): per session and shared by all, over real TCP."""
import smtplib
import threading
import time

from queues.intake import RAW_KEY
from gateway.edges.smtp.pace import PACE_AFTER_BYTES, Bandwidth
from tests.gateway.test_smtp import queued_envelopes
from tests.gateway.test_smtp_limits import limited_edge

RATE = 512 * 1024  # bytes/s in these tests
PAST_THE_FREE_MEBIBYTE = 256 * 1024


def big_mail() -> bytes:
    line = b"y" * 998 + b"\r\n"
    lines = (PACE_AFTER_BYTES + PAST_THE_FREE_MEBIBYTE) // len(line)
    return b"From: a@c.test\r\nTo: support@demo.test\r\n\r\n" + line * lines


def send_timed(edge, raw: bytes, took: list[float]) -> None:
    with smtplib.SMTP(edge.hostname, edge.port) as smtp:
        started = time.monotonic()
        smtp.sendmail("a@c.test", ["support@demo.test"], raw)
        took.append(time.monotonic() - started)


def test_shared_bandwidth_books_pieces_one_after_another():
    shared = Bandwidth(rate=100)
    assert shared.book(50, now=10.0) == 10.5
    assert shared.book(100, now=10.1) == 11.5  # waits behind the first booking
    assert shared.book(10, now=20.0) == 20.1   # an idle clock starts again from now
    assert Bandwidth(rate=0).book(10**9, now=3.0) == 3.0


def test_data_past_the_first_mebibyte_is_read_at_the_session_rate(sqlite_runtime):
    raw, took = big_mail(), []
    with limited_edge(sqlite_runtime, size_limit=4 * 1024 * 1024, data_rate=RATE,
                      data_rate_total=0) as edge:
        send_timed(edge, raw, took)
    assert took[0] >= (len(raw) - PACE_AFTER_BYTES) / RATE * 0.95
    [envelope] = queued_envelopes(sqlite_runtime.redis)
    assert sqlite_runtime.redis.get(RAW_KEY + envelope["raw_ref"]) == raw


def test_sessions_share_the_total_rate(sqlite_runtime):
    raw, took = big_mail(), []
    with limited_edge(sqlite_runtime, size_limit=4 * 1024 * 1024, data_rate=0,
                      data_rate_total=RATE) as edge:
        senders = [threading.Thread(target=send_timed, args=(edge, raw, took))
                   for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    # alone, each would take a quarter of a second past its free mebibyte; together, one second
    assert max(took) >= 2 * (len(raw) - PACE_AFTER_BYTES) / RATE * 0.95
    assert len(queued_envelopes(sqlite_runtime.redis)) == 2


def test_small_mail_is_never_paced(sqlite_runtime):
    raw, took = b"From: a@c.test\r\n\r\n" + b"z" * 100_000 + b"\r\n", []
    with limited_edge(sqlite_runtime, size_limit=2 * 1024 * 1024, data_rate=1,
                      data_rate_total=1) as edge:
        send_timed(edge, raw, took)  # at one byte a second it would take a day
    assert len(queued_envelopes(sqlite_runtime.redis)) == 1
