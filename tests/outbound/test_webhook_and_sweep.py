"""Ticket changes pushed to an external core (signed, retried), and the outbound sweep."""
import hmac
import json
from hashlib import sha256

import pytest
from rq import Queue

from tests.outbound.callback_server import Receiver
from tests.outbound.conftest import auth, inbound, reply
from tests.outbound.mails import first_mail
from tests.outbound.test_acknowledgement import ingest
from tests.outbound.workspaces import outbound_config
from workers.outbound import sweep, webhook
from workers.outbound.relay import TransientFailure


@pytest.fixture
def receiver(rt, monkeypatch):
    server = Receiver()
    monkeypatch.setenv("TG_TEST_CORE_SECRET", "core-secret")
    rt.config = outbound_config(webhook={"url": server.url, "secret_env": "TG_TEST_CORE_SECRET"})
    yield server
    server.stop()


def push_all(rt) -> list:
    queue = Queue("outbound", connection=rt.redis)
    results = []
    for job in queue.get_jobs():
        if job.func_name == "workers.outbound.webhook.push":
            results.append(webhook.push_with(rt, *job.args))
            queue.remove(job)
    return results


def test_changes_are_pushed_signed_with_retries(rt, client, receiver):
    client = client.application.test_client()
    ingest(rt, first_mail())
    assert reply(client, 1).status_code == 201
    client.post("/api/v1/tickets/1/notes", json={"text": "internal"}, headers=auth())
    receiver.statuses = [500]
    with pytest.raises(TransientFailure):
        push_all(rt)           # the first push meets a 500: the job raises, RQ retries it
    assert len(push_all(rt)) == 3   # the retried one, then the others
    documents = [json.loads(body) for _, body in receiver.requests]
    assert [d["change"]["kind"] for d in documents] == ["created", "created", "reply", "note"]
    assert documents[0]["id"] == documents[1]["id"]   # a retry keeps its event id
    assert all(d["ticket"]["number"] == 1 for d in documents)
    headers, body = receiver.requests[-1]
    timestamp = headers["X-Ticketgate-Timestamp"]
    expected = hmac.new(b"core-secret", f"{timestamp}.".encode() + body, sha256).hexdigest()
    assert headers["X-Ticketgate-Signature"] == expected


def test_new_ticket_is_pushed_with_its_snapshot(rt, receiver):
    ingest(rt, first_mail())
    origin = receiver.url.rpartition("/")[0]   # the path may hold a token: never in a detail
    assert push_all(rt) == [f"{origin} answered 200"]
    [(_, body)] = receiver.requests
    document = json.loads(body)
    assert document["change"]["kind"] == "created"
    assert document["ticket"]["subject"] == "Printer on fire" and document["id"]


def test_sweep_requeues_replies_whose_job_was_lost(rt, client):
    inbound(rt, first_mail())
    reply(client, 1)
    queue = Queue("outbound", connection=rt.redis)
    queue.empty()                                   # as if Redis lost the job
    assert sweep.requeue_stalled(rt, stale_after_s=3600) == 0
    assert sweep.requeue_stalled(rt, stale_after_s=0) == 1
    assert queue.count == 1
