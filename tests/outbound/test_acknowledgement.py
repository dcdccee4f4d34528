"""Automatic acknowledgements: who gets one, the headers, rate limits, once per ticket."""
import pytest
from rq import Queue
from sqlalchemy import select

from channels.mail.classify import classify
from store.models import Identity, Message
from tests.outbound.mails import client_reply, first_mail
from tests.outbound.workspaces import outbound_config
from workers.outbound import ack, autoreply, hooks
from queues.intake import Intake

T0 = 1_800_000_000.0


@pytest.fixture
def acking(rt):
    rt.config = outbound_config(acknowledgement={
        "enabled": True, "per_recipient": {"limit": 2, "window_s": 3600},
        "templates": [
            {"language": "default", "subject": "Received {token}", "text": "Hi {name}, noted."},
            {"language": "de", "subject": "Erhalten {token}", "text": "Hallo {name}."}]})
    return rt


def ingest(rt, msg) -> list:
    """``msg`` through intake + ingest, then the post-commit hook; returns the queued jobs."""
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    envelope = Intake(rt.redis).accept("email", "demo", "smtp", raw,
                                       {"rcpt_to": ["support@demo.test"]})
    items = _items(rt, envelope)
    hooks.after_ingest(rt, items)
    return Queue("outbound", connection=rt.redis).get_jobs()


def _items(rt, envelope):
    from workers.ingest import job as ingest_module
    from workers.ingest.prepare import prepare
    items = [prepare(rt, envelope)]
    ingest_module.store_items(rt, items)
    return items


def run_ack_jobs(rt, now=T0) -> list[str]:
    queue = Queue("outbound", connection=rt.redis)
    results = []
    for job in queue.get_jobs():
        if job.func_name == "workers.outbound.ack.acknowledge":
            results.append(ack.acknowledge_with(rt, *job.args, now=now))
            queue.remove(job)
    return results


def test_new_ticket_is_acknowledged_with_automatic_headers(acking, sink):
    jobs = ingest(acking, first_mail())
    assert [j.func_name for j in jobs] == ["workers.outbound.ack.acknowledge"]
    assert run_ack_jobs(acking) == ["sent"]
    mail = sink.parsed()
    assert mail["Subject"] == "Received [#1]" and mail["To"] == "alice@customer.test"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert "Hi Alice Example, noted." in mail.get_body(("plain",)).get_content()


def test_acknowledgement_runs_once_per_ticket_even_when_the_job_repeats(acking, sink):
    ingest(acking, first_mail())
    with acking.sessions() as s:
        key = s.scalar(select(Message.dedupe_key).where(Message.direction == "in"))
    assert ack.acknowledge_with(acking, "demo", key, now=T0) == "sent"
    assert ack.acknowledge_with(acking, "demo", key, now=T0) == "sent"
    assert len(sink.mails) == 1


def test_reply_to_the_acknowledgement_threads_and_gets_no_second(acking, sink):
    ingest(acking, first_mail())
    run_ack_jobs(acking)
    answer = client_reply(sink.parsed())
    assert ingest(acking, answer) == []  # threaded: no acknowledgement job
    assert len(sink.mails) == 1


def test_rate_limit_per_recipient_in_sliding_window(acking, sink):
    results = []
    for i in range(4):
        ingest(acking, first_mail(subject=f"Question {i}"))
        results += run_ack_jobs(acking, now=T0 + i * 60)
    assert results[:2] == ["sent", "sent"] and all("rate limit" in r for r in results[2:])
    ingest(acking, first_mail(subject="Much later"))
    assert run_ack_jobs(acking, now=T0 + 3 * 3600) == ["sent"]


def test_bouncing_address_gets_no_acknowledgement(acking, sink):
    with acking.sessions.begin() as s:
        from store import repo
        ws = repo.workspace_row(s, "demo")
        repo.create_customer(s, ws.id, "Alice", "email", "alice@customer.test")[1].bouncing = True
    ingest(acking, first_mail())
    assert run_ack_jobs(acking) == ["skipped: alice@customer.test is bouncing"]
    with acking.sessions() as s:
        assert s.scalar(select(Identity.bouncing))


def test_disabled_by_default(rt, sink):
    assert ingest(rt, first_mail()) == []


@pytest.mark.parametrize("address", [
    "MAILER-DAEMON@mx.example.com", "postmaster@example.com", "no-reply@shop.example",
    "noreply@shop.example", "do-not-reply@bank.example", "donotreply@x.example",
    "bounces+123@lists.example", "news-bounces@lists.example", "list-request@lists.example",
    "notifications@github.example", "auto-reply@x.example"])
def test_robot_addresses_are_never_acknowledged(address):
    decision = autoreply.decide(enabled=True, channel="email", classification="normal",
                                address=address, own=False)
    assert not decision.send and "robot" in decision.reason


@pytest.mark.parametrize("kind", ["auto_reply", "out_of_office", "bounce", "complaint", "list",
                                  "spam", "own_loop"])
def test_automatic_and_bulk_mail_is_never_acknowledged(kind):
    decision = autoreply.decide(enabled=True, channel="email", classification=kind,
                                address="alice@customer.test", own=False)
    assert not decision.send


def test_own_addresses_and_other_channels_are_never_acknowledged():
    common = dict(enabled=True, classification="normal", address="support@demo.test")
    assert not autoreply.decide(channel="email", own=True, **common).send
    assert not autoreply.decide(channel="telegram", own=False, **common).send
    assert autoreply.decide(channel="form", own=False, **common).send


@pytest.mark.parametrize("headers, kind", [
    ("Auto-Submitted: auto-replied\n", "auto_reply"),
    ("Precedence: bulk\nList-Id: <news.example.com>\n", "list"),
])
def test_mail_with_automatic_headers_is_not_acknowledged_end_to_end(acking, sink, headers,
                                                                    kind):
    msg = first_mail(subject="Hello")
    for line in headers.strip().splitlines():
        name, _, value = line.partition(": ")
        msg[name] = value
    assert classify(msg, ("demo.test",)).kind in (kind, "out_of_office")
    assert ingest(acking, msg) == []
    assert sink.mails == []
