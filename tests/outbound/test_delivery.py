"""Delivery state of replies: the relay, the local outbox, retries, permanent failures,
Telegram (a fake Bot API) and the chat callback (a local receiver)."""
import copy
import hmac
import json
from hashlib import sha256

import pytest
from sqlalchemy import select

from channels.event import Address, ThreadHints, TicketEvent
from config.workspaces import parse_config
from queues.intake import now_iso
from gateway.web import create_app
from store.models import Message, OutboxEntry
from tests.conftest import TEST_CONFIG
from tests.outbound.callback_server import Receiver
from tests.outbound.conftest import inbound, reply, with_relay
from tests.outbound.mails import first_mail
from tests.outbound.workspaces import LOCAL_FETCH_HOSTS
from tests.integration.harness import free_port
from tests.telegram.fake_bot_api import FakeBotApi
from workers.ingest.job import store_event
from workers.outbound import deliver, telegram_out
from workers.outbound.relay import TransientFailure


def message(rt, message_id):
    with rt.sessions() as s:
        return s.get(Message, message_id)


@pytest.fixture
def queued(rt, client):
    assert inbound(rt, first_mail()) == "created"
    return reply(client, 1).get_json()["id"]


def test_without_relay_mail_is_kept_in_outbox(rt, queued, sink, caplog):
    with_relay(rt, "")
    assert deliver.deliver_with(rt, queued) == "outbox"
    assert sink.mails == []
    with rt.sessions() as s:
        [entry] = s.scalars(select(OutboxEntry)).all()
        assert entry.recipients == ["alice@customer.test"] and entry.message_id == queued
        assert b"Subject: Re: Printer on fire [#1]" in rt.blobs.get(entry.raw_ref)
    assert message(rt, queued).delivery_status == "outbox"
    assert "kept in the outbox" in caplog.text
    assert deliver.deliver_with(rt, queued) == "outbox"  # run twice: kept once
    with rt.sessions() as s:
        assert len(s.scalars(select(OutboxEntry)).all()) == 1


def test_relay_down_retries_then_succeeds(rt, queued, sink):
    with_relay(rt, f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    with pytest.raises(TransientFailure):
        deliver.deliver_with(rt, queued)
    state = message(rt, queued)
    assert (state.delivery_status, state.attempts) == ("queued", 1)
    assert "attempt 1 of 12" in state.delivery_detail
    sink.answer = "451 4.3.0 try later"
    with_relay(rt, sink.url)
    with pytest.raises(TransientFailure):
        deliver.deliver_with(rt, queued)
    assert "451" in message(rt, queued).delivery_detail
    sink.answer = ""
    assert deliver.deliver_with(rt, queued) == "sent"
    assert len(sink.mails) == 1 and message(rt, queued).attempts == 3
    assert deliver.deliver_with(rt, queued) == "sent" and len(sink.mails) == 1  # no resend


def test_permanent_refusal_fails_with_reason(rt, queued, sink):
    sink.answer = "550 5.1.1 no such user"
    assert deliver.deliver_with(rt, queued) == "failed"
    state = message(rt, queued)
    assert state.delivery_status == "failed" and "550" in state.delivery_detail


def test_transient_failures_end_as_failed_after_max_attempts(rt, queued):
    with_relay(rt, f"smtp://127.0.0.1:{free_port()}")
    for _ in range(11):
        with pytest.raises(TransientFailure):
            deliver.deliver_with(rt, queued)
    assert deliver.deliver_with(rt, queued) == "failed"
    assert message(rt, queued).attempts == 12


def test_delivery_state_shows_in_reply_answer(rt, client, queued):
    deliver.deliver_with(rt, queued)
    assert message(rt, queued).delivery_status == "sent"


# --- Telegram ----------------------------------------------------------------------------------

TOKEN = "7000001:AAH-test-token_for_the_fake"


def telegram_event(chat: int = 555, message_id: int = 10) -> TicketEvent:
    return TicketEvent(workspace="demo", channel="telegram", account="support",
                       native_id=f"{chat}:{message_id}",
                       dedupe_key=f"telegram:support:{chat}:{message_id}",
                       received_at=now_iso(), sender=Address("Tom", "telegram:42"), subject="Hi",
                       text="Where is my parcel?", reply_text="Where is my parcel?",
                       thread=ThreadHints(conversation_id=str(chat)))


@pytest.fixture
def fake_api(monkeypatch):
    monkeypatch.setenv("TG_TEST_TELEGRAM_TOKEN", TOKEN)
    api = FakeBotApi(TOKEN).start()
    yield api
    api.stop()
    telegram_out.RUNNER.reset()


def configured(rt, **demo_channels):
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["channels"] = demo_channels
    data["workspaces"][0]["fetch_allow_hosts"] = LOCAL_FETCH_HOSTS
    rt.config = parse_config(data)
    return create_app(rt).test_client()


def test_telegram_reply_is_sent_to_the_chat_as_reply(rt, fake_api):
    client = configured(rt, telegram=[{"name": "support", "token_env": "TG_TEST_TELEGRAM_TOKEN",
                                       "base_url": fake_api.base_url}])
    assert store_event(rt, rt.config.workspace("demo"), telegram_event()) == "created"
    body = reply(client, 1, "Tomorrow.").get_json()
    assert deliver.deliver_with(rt, body["id"]) == "sent"
    [sent] = fake_api.sent
    assert (int(sent["chat_id"]), sent["text"]) == (555, "Tomorrow.")
    assert sent["reply_parameters"]["message_id"] == 10
    assert message(rt, body["id"]).native_id == "555:9001"


def test_telegram_blocked_bot_fails_and_outage_retries(rt, fake_api):
    client = configured(rt, telegram=[{"name": "support", "token_env": "TG_TEST_TELEGRAM_TOKEN",
                                       "base_url": fake_api.base_url}])
    store_event(rt, rt.config.workspace("demo"), telegram_event())
    first, second = (reply(client, 1, t).get_json()["id"] for t in ("a", "b"))
    fake_api.failures.append(("sendMessage", 502, "Bad Gateway"))
    with pytest.raises(TransientFailure):
        deliver.deliver_with(rt, first)
    assert deliver.deliver_with(rt, first) == "sent"
    fake_api.failures.append(("sendMessage", 403, "Forbidden: bot was blocked by the user"))
    assert deliver.deliver_with(rt, second) == "failed"
    assert "blocked" in message(rt, second).delivery_detail


# --- chat --------------------------------------------------------------------------------------

@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def test_chat_reply_is_a_signed_callback_with_retries(rt, receiver, monkeypatch):
    from tests.workers.events import chat_event
    monkeypatch.setenv("TG_TEST_CHAT_SECRET", "chat-secret")
    client = configured(rt, chat={"secret_env": "TG_TEST_CHAT_SECRET",
                                  "callback_url": receiver.url})
    store_event(rt, rt.config.workspace("demo"), chat_event("m1", conversation="conv-9"))
    body = reply(client, 1, "Hello from an agent").get_json()
    receiver.statuses = [503]
    with pytest.raises(TransientFailure):
        deliver.deliver_with(rt, body["id"])
    assert deliver.deliver_with(rt, body["id"]) == "sent"
    headers, raw = receiver.requests[-1]
    document = json.loads(raw)
    assert (document["conversation_id"], document["text"]) == ("conv-9", "Hello from an agent")
    timestamp = headers["X-Ticketgate-Timestamp"]
    expected = hmac.new(b"chat-secret", f"{timestamp}.".encode() + raw, sha256).hexdigest()
    assert headers["X-Ticketgate-Signature"] == expected


def test_chat_callback_refused_with_4xx_fails(rt, receiver, monkeypatch):
    from tests.workers.events import chat_event
    monkeypatch.setenv("TG_TEST_CHAT_SECRET", "chat-secret")
    client = configured(rt, chat={"secret_env": "TG_TEST_CHAT_SECRET",
                                  "callback_url": receiver.url})
    store_event(rt, rt.config.workspace("demo"), chat_event("m1"))
    body = reply(client, 1).get_json()
    receiver.statuses = [404]
    assert deliver.deliver_with(rt, body["id"]) == "failed"


def test_chat_reply_without_a_callback_is_sent_to_the_widget(rt):
    from tests.workers.events import chat_event
    from workers.outbound.chat_out import WIDGET_ONLY
    client = configured(rt, chat={})
    store_event(rt, rt.config.workspace("demo"), chat_event("m1", conversation="conv-9"))
    body = reply(client, 1, "Hello from an agent").get_json()
    assert deliver.deliver_with(rt, body["id"]) == "sent"
    with rt.read_sessions() as session:
        message = session.get(Message, body["id"])
        assert (message.delivery_status, message.delivery_detail) == ("sent", WIDGET_ONLY)
