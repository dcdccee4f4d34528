"""/metrics with real data through the pipeline and the REST API (SQLite and PostgreSQL): queue
depth, failed jobs and workers of every queue including outbound; the first-response and
resolution histograms, counted when (and only when) the reply or the resolve commits."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from sqlalchemy import select, update

from gateway.web import create_app
from queues import outbound
from store.models import Ticket, Workspace, utcnow
from tests.gateway.apifactory import auth
from tests.gateway.test_health import samples
from tests.workers.inputs import form, mail
from tickets import actions
from workers.run import IngestWorker  # a burst worker that never lingers at its exit

FIRST = "ticketgate_first_response_seconds"
RESOLUTION = "ticketgate_resolution_seconds"
EMAIL_DEMO = (("channel", "email"), ("workspace", "demo"))


def failing_job() -> None:
    """An outbound job that always fails, to fill the outbound failed registry."""
    raise RuntimeError("broken on purpose")


@pytest.fixture
def client(runtime, api_keys):
    return create_app(runtime).test_client()


def ticket_created_ago(rt, number: int, **ago) -> None:
    """Move ticket ``number``'s creation back in time (a known timeline)."""
    with rt.sessions.begin() as session:
        session.execute(update(Ticket).where(Ticket.number == number)
                        .values(created_at=utcnow() - timedelta(**ago)))


def histogram(client, name: str) -> dict[str, float]:
    """bucket bound (and "count", "sum") -> value for channel email, workspace demo."""
    found = samples(client.get("/metrics"))
    out = {le: value for (sample, labels), value in found.items()
           for le in [dict(labels).get("le")]
           if sample == f"{name}_bucket" and tuple(k for k in labels if k[0] != "le")
           == EMAIL_DEMO}
    out["count"] = found.get((f"{name}_count", EMAIL_DEMO), 0.0)
    out["sum"] = found.get((f"{name}_sum", EMAIL_DEMO), 0.0)
    return out


def reply(client, number: int, text: str = "We are on it"):
    response = client.post(f"/api/v1/tickets/{number}/replies", json={"text": text},
                           headers=auth())
    assert response.status_code == 201, response.get_json()
    return response


def patch(client, number: int, status: str):
    response = client.patch(f"/api/v1/tickets/{number}", json={"status": status},
                            headers=auth())
    assert response.status_code == 200, response.get_json()


# --- queues ---

def test_outbound_has_depth_failed_and_worker_gauges_like_the_channel_queues(client, runtime):
    redis = runtime.redis
    queue = Queue(outbound.QUEUE, connection=redis)
    queue.enqueue(failing_job)  # no Retry: straight to the failed registry
    IngestWorker([queue], connection=redis).work(burst=True)
    outbound.enqueue_delivery(redis, 42)  # waits: no worker runs it
    worker = IngestWorker([queue], connection=redis)
    worker.register_birth()
    try:
        found = samples(client.get("/metrics"))
    finally:
        worker.register_death()
    queue = (("queue", "outbound"),)
    assert found[("ticketgate_queue_depth", queue)] == 1
    assert found[("ticketgate_failed_jobs", queue)] == 1
    assert found[("ticketgate_workers", queue)] == 1
    for name in ("email", "form", "chat", "telegram"):
        assert found[("ticketgate_queue_depth", (("queue", name),))] == 0
        assert found[("ticketgate_workers", (("queue", name),))] == 0


# --- first response ---

def test_first_agent_reply_is_observed_once_with_its_time_since_creation(client, runtime):
    mail(runtime, "alice@customer.test")
    ticket_created_ago(runtime, 1, minutes=90)
    client.post("/api/v1/tickets/1/notes", json={"text": "internal"}, headers=auth())
    assert histogram(client, FIRST)["count"] == 0  # a note is no response
    reply(client, 1)
    reply(client, 1, "And a second answer")
    first = histogram(client, FIRST)
    assert first["count"] == 1
    assert (first["3600.0"], first["7200.0"], first["+Inf"]) == (0, 1, 1)
    assert first["sum"] == pytest.approx(5400, abs=60)


def test_customer_messages_threaded_onto_a_ticket_are_no_first_response(client, runtime):
    mail(runtime, "alice@customer.test")
    _outcome, message_id = mail(runtime, "bob@customer.test", subject="Another")
    mail(runtime, "bob@customer.test", subject="Re: Another", in_reply_to=message_id)
    assert histogram(client, FIRST)["count"] == 0


def test_a_reply_rolled_back_is_not_counted(client, runtime):
    mail(runtime, "alice@customer.test")
    with pytest.raises(RuntimeError), runtime.sessions.begin() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == 1))
        actions.reply(session, session.get(Workspace, ticket.workspace_id),
                      runtime.config.workspace("demo"), ticket, actions.Draft(text="lost"),
                      "k" * 32)
        raise RuntimeError("the transaction fails after the reply")
    assert histogram(client, FIRST)["count"] == 0
    reply(client, 1)
    assert histogram(client, FIRST)["count"] == 1


# --- resolution ---

def test_resolution_is_observed_at_each_resolve_from_an_active_status(client, runtime):
    mail(runtime, "alice@customer.test")
    ticket_created_ago(runtime, 1, hours=5)
    reply(client, 1)
    patch(client, 1, "resolved")
    patch(client, 1, "closed")  # resolved -> closed: the same resolution
    resolution = histogram(client, RESOLUTION)
    assert resolution["count"] == 1
    assert (resolution["14400.0"], resolution["28800.0"]) == (0, 1)
    patch(client, 1, "open")  # reopened, then resolved again: a second resolution
    patch(client, 1, "resolved")
    assert histogram(client, RESOLUTION)["count"] == 2


def test_spam_and_deleted_are_not_resolutions(client, runtime):
    mail(runtime, "alice@customer.test")
    mail(runtime, "bob@customer.test", subject="Buy now")
    patch(client, 1, "spam")
    patch(client, 2, "deleted")
    assert histogram(client, RESOLUTION)["count"] == 0


def test_histograms_are_labelled_per_channel_and_workspace(client, runtime):
    form(runtime, "carol@customer.test", "Form question")
    reply(client, 1)
    found = samples(client.get("/metrics"))
    labels = (("channel", "form"), ("workspace", "demo"))
    assert found[(f"{FIRST}_count", labels)] == 1
    assert (f"{FIRST}_count", EMAIL_DEMO) not in found
