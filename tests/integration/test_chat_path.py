"""End to end: signed chat webhook -> Redis -> real RQ chat worker processes -> store -> API.

Runs on SQLite and PostgreSQL with the real Redis; nothing is mocked. The guarded client
refuses loopback addresses by default: the demo workspace lists ``localhost`` and
``127.0.0.1`` in ``fetch_allow_hosts`` (remote attachments: test_chat_attachments.py).
"""
from __future__ import annotations

import signal
import smtplib
import time

import pytest
from rq import Worker
from sqlalchemy import select

from gateway.web import create_app
from store import repo
from store.models import Ticket
from tests.conftest import DEMO_KEY
from tests.gateway.test_chat_webhook import CHAT_SECRET, SECRET_ENV, chat_config, chat_payload
from tests.gateway.test_chat_webhook import post_chat
from tests.integration.harness import kill_group, process_env, smtp_edge, start_worker
from tests.integration.mails import customer_mail

pytestmark = pytest.mark.integration


LOCAL_HOSTS = ("localhost", "127.0.0.1")


def with_fetch_allow_hosts(config, hosts=LOCAL_HOSTS):
    """The demo workspace of ``config`` with ``fetch_allow_hosts: hosts``."""
    demo = config.workspace("demo").model_copy(update={"fetch_allow_hosts": tuple(hosts)})
    return config.model_copy(update={"workspaces": (demo,) + config.workspaces[1:]})


@pytest.fixture
def test_config(request):
    options = dict(getattr(request, "param", {}))
    hosts = options.pop("fetch_allow_hosts", LOCAL_HOSTS)
    return with_fetch_allow_hosts(chat_config(**options), hosts)


@pytest.fixture
def web(runtime, api_keys, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, CHAT_SECRET)
    return create_app(runtime).test_client()


def post(web, **overrides):
    response = post_chat(web, chat_payload(**overrides))
    assert response.status_code == 202, response.get_json()


def work(runtime, tmp_path, queue="chat", count=1):
    """Run ``count`` burst worker processes on ``queue`` until it is empty."""
    env = process_env(runtime, tmp_path)
    workers = [start_worker(env, queue) for _ in range(count)]
    for worker in workers:
        output, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, output.decode(errors="replace")[-3000:]


def api(web, path):
    response = web.get(path, headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def tickets(web, query=""):
    return sorted(api(web, f"/api/v1/tickets?limit=100{query}")["tickets"],
                  key=lambda t: t["number"])


def set_status(runtime, number: int, status: str) -> None:
    with runtime.sessions.begin() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        repo.set_status(session, ticket, status)


def test_messages_of_a_conversation_thread_into_one_ticket(runtime, web, tmp_path):
    post(web, text="My order did not arrive")
    post(web, text="Order number 1234")
    post(web, conversation_id="conv-2", visitor={"id": "other"}, text="Other question")
    work(runtime, tmp_path)
    post(web, text="Any news?")  # after the ticket exists
    retried = chat_payload(message_id="dup", text="once")
    assert post_chat(web, retried).status_code == 202
    # The sender's retry, signed anew: past the replay guard, the worker makes it a duplicate.
    assert post_chat(web, retried, timestamp=int(time.time()) - 5).status_code == 202
    work(runtime, tmp_path)
    first, second = tickets(web)
    assert (first["subject"], first["channel"], first["message_count"]) == (
        "My order did not arrive", "chat", 4)
    assert second["message_count"] == 1
    identities = {(i["kind"], i["value"]) for i in first["customer"]["identities"]}
    assert identities == {("chat", "visitor-1"), ("email", "vera@customer.test")}
    assert first["customer"]["name"] == "Vera Visitor"


def test_chat_visitor_and_the_same_address_by_mail_are_one_customer(runtime, web, tmp_path):
    """When the business's signed webhook vouches for the visitor's email (docs/threading.md)."""
    post(web, visitor={"id": "v-7", "name": "Alice", "email": "Alice@Customer.test",
                       "email_verified": True})
    work(runtime, tmp_path)
    with smtp_edge(runtime) as edge:
        with smtplib.SMTP(edge.hostname, edge.port) as client:
            client.send_message(customer_mail(sender="alice@customer.test"))
    work(runtime, tmp_path, queue="email")
    chat_ticket, mail_ticket = tickets(web)
    assert (chat_ticket["channel"], mail_ticket["channel"]) == ("chat", "email")
    assert chat_ticket["customer"]["id"] == mail_ticket["customer"]["id"]
    assert len(tickets(web, "&customer=alice@customer.test")) == 2
    assert len(tickets(web, "&customer=chat:v-7")) == 2


@pytest.mark.parametrize("test_config", [
    {}, {"conversation": {"on_resolved": "new_ticket", "on_closed": "reopen"}}], indirect=True,
    ids=["default", "inverted"])
def test_finished_conversation_follows_the_workspace_policy(runtime, web, tmp_path, test_config):
    policy = test_config.workspace("demo").channels.conversation
    post(web, text="first")
    work(runtime, tmp_path)
    for status in ("resolved", "closed"):
        current = tickets(web)[-1]["number"]
        set_status(runtime, current, status)
        post(web, text=f"after {status}")
        post(web, text=f"and more after {status}")
        work(runtime, tmp_path)
        latest = tickets(web)[-1]
        choice = policy.on_resolved if status == "resolved" else policy.on_closed
        if choice == "reopen":
            assert latest["number"] == current and latest["status"] == "open"
        else:
            assert latest["number"] == current + 1 and latest["status"] == "new"
            assert latest["follow_up_of"] is not None
            assert latest["message_count"] == 2  # the conversation moved to the new ticket
    assert sum(t["message_count"] for t in tickets(web)) == 5


def test_a_burst_of_one_conversation_lands_in_order_on_one_ticket(runtime, web, tmp_path):
    env = process_env(runtime, tmp_path)
    workers = [start_worker(env, "chat", burst=False) for _ in range(3)]
    try:
        assert wait_for(lambda: Worker.count(connection=runtime.redis) == 3, 30)
        texts = [f"message {i:02d}" for i in range(30)]
        for text in texts:  # posted in order while three workers take jobs in parallel
            post(web, text=text)
        assert wait_for(lambda: sum(t["message_count"] for t in tickets(web)) == 30, 60)
    finally:
        for worker in workers:
            kill_group(worker, signal.SIGTERM)
        outputs = [worker.communicate(timeout=30)[0].decode(errors="replace")
                   for worker in workers]
    [ticket] = tickets(web)
    detail = api(web, f"/api/v1/tickets/{ticket['number']}")
    assert [m["text"] for m in detail["messages"]] == texts
    busy = [o.count("Successfully completed") for o in outputs]
    assert sum(1 for n in busy if n) >= 2, busy  # the race really happened


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
