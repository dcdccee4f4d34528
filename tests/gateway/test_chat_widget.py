"""The chat widget's server side: the page, server-side signing, sessions, rate limit, history.

The browser itself is exercised in tests/browser/test_chat_widget.py.
"""
from __future__ import annotations

import json

import pytest
from rq import Queue

from gateway.web import create_app
from tests.gateway.test_chat_webhook import SECRET_ENV, chat_config, chat_payload, post_chat, queued
from workers.ingest.job import ingest_with

pytestmark = pytest.mark.usefixtures("chat_secret")


@pytest.fixture
def test_config():
    return chat_config(widget_per_ip_per_hour=5, widget_title="Talk to Demo")


@pytest.fixture
def chat_secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "chat-test-secret")


@pytest.fixture
def client(sqlite_runtime):
    return create_app(sqlite_runtime).test_client()


def say(client, text="Hi there", session=None, **fields):
    headers = {"X-Chat-Session": session} if session else {}
    return client.post("/chat/demo/messages", json={"text": text, **fields}, headers=headers)


def run_queue(runtime) -> None:
    """What a chat worker does, in-process: every queued ingest job through the pipeline."""
    for job in Queue("chat", connection=runtime.redis).get_jobs():
        ingest_with(runtime, job.args[0])
        job.delete()


def test_page_is_accessible_and_embeddable(client):
    response = client.get("/chat/demo")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Talk to Demo</title>" in html
    assert 'aria-live="polite"' in html and 'role="log"' in html
    for field in ("chat-text", "chat-name", "chat-email"):
        assert f'<label for="{field}">' in html
    assert "X-Frame-Options" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert client.get("/chat-assets/widget.js").status_code == 200
    assert client.get("/chat-assets/widget.css").status_code == 200


def test_page_of_unknown_or_disabled_workspace_is_404(client):
    assert client.get("/chat/nobody").status_code == 404
    assert client.get("/chat/acme").status_code == 404


def test_message_is_signed_server_side_and_enqueued(client, sqlite_runtime):
    response = say(client, "Where is my parcel?", name="Vera", email="vera@customer.test")
    assert response.status_code == 202
    body = response.get_json()
    [raw] = queued(sqlite_runtime)
    payload = json.loads(raw)
    assert payload["text"] == "Where is my parcel?" and payload["message_id"] == body["message_id"]
    assert payload["visitor"]["email"] == "vera@customer.test"
    assert body["session"] and len(body["reference"]) == 12


def test_session_keeps_the_visitor_and_conversation(client, sqlite_runtime):
    session = say(client, "first").get_json()["session"]
    assert say(client, "second", session=session).status_code == 202
    say(client, "someone else")
    say(client, "forged", session=session[:-3] + "abc")
    first, second, other, forged = [json.loads(raw) for raw in queued(sqlite_runtime)]
    assert second["conversation_id"] == first["conversation_id"]
    assert second["visitor"]["id"] == first["visitor"]["id"]
    assert other["conversation_id"] != first["conversation_id"]
    assert forged["conversation_id"] not in (first["conversation_id"], other["conversation_id"])


@pytest.mark.parametrize("body, field", [
    ({"text": "  "}, "text"), ({"text": 5}, "text"), ({"text": "hi", "name": ["x"]}, "name"),
    ({"text": "hi", "email": "nope"}, "visitor.email"), ({"text": "x" * 20_001}, "text"),
])
def test_invalid_message_is_400_with_fields(client, sqlite_runtime, body, field):
    response = client.post("/chat/demo/messages", json=body)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]
    assert queued(sqlite_runtime) == []


def test_messages_are_rate_limited_per_ip(client):
    statuses = [say(client, f"message {i}").status_code for i in range(7)]
    assert statuses[:5] == [202] * 5 and statuses[5:] == [429, 429]
    other_ip = client.post("/chat/demo/messages", json={"text": "hi"},
                           environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_ip.status_code == 202


def test_history_shows_only_the_visitors_own_conversation(client, sqlite_runtime):
    mine = say(client, "my question").get_json()
    say(client, "my follow-up", session=mine["session"])
    say(client, "somebody else's secret")
    post_chat(client, chat_payload(conversation_id="conv-x", text="webhook message"))
    run_queue(sqlite_runtime)
    response = client.get("/chat/demo/messages", headers={"X-Chat-Session": mine["session"]})
    assert response.status_code == 200
    messages = response.get_json()["messages"]
    assert [m["text"] for m in messages] == ["my question", "my follow-up"]
    assert messages[0]["id"] == mine["message_id"] and messages[0]["direction"] == "in"


def test_history_needs_a_valid_session(client):
    assert client.get("/chat/demo/messages").status_code == 401
    forged = client.get("/chat/demo/messages", headers={"X-Chat-Session": "e30.forged"})
    assert forged.status_code == 401


def test_history_of_a_conversation_not_stored_yet_is_empty(client):
    session = say(client, "queued only").get_json()["session"]
    response = client.get("/chat/demo/messages", headers={"X-Chat-Session": session})
    assert response.get_json()["messages"] == []


@pytest.mark.parametrize("body", [b"not json", b"[]", b"[" * 100_000 + b"]" * 100_000])
def test_message_that_is_not_a_json_object_is_400(client, body):
    response = client.post("/chat/demo/messages", data=body,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"
