"""What the chat widget shows (GET /chat/<workspace>/messages): the visitor's own messages and
the agents' answers, new ones by cursor; never notes, never another visitor's conversation.

Real app, Redis and SQLite; answers and notes go through the REST API as an agent's would.
"""
from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from gateway.web import create_app
from tests.gateway.test_chat_webhook import CHAT_SECRET, SECRET_ENV, chat_config
from tests.gateway.test_chat_widget import run_queue, say

pytestmark = pytest.mark.usefixtures("chat_secret", "api_keys")
AGENT = {"Authorization": "Bearer demo-test-key"}


@pytest.fixture
def test_config():
    return chat_config(widget_per_ip_per_hour=100)


@pytest.fixture
def chat_secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, CHAT_SECRET)


@pytest.fixture
def client(sqlite_runtime):
    return create_app(sqlite_runtime).test_client()


def visitor(client, runtime, text: str) -> str:
    """A new visitor writes ``text``; the chat worker stores it. Their session token."""
    response = say(client, text)
    assert response.status_code == 202
    run_queue(runtime)
    return response.get_json()["session"]


def seen(client, session: str, since: str | None = None) -> dict:
    query = {"since": since} if since is not None else {}
    response = client.get("/chat/demo/messages", query_string=query,
                          headers={"X-Chat-Session": session})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def agent(client, number: int, action: str, text: str) -> dict:
    response = client.post(f"/api/v1/tickets/{number}/{action}", json={"text": text},
                           headers=AGENT)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def texts(page: dict) -> list[tuple[str, str]]:
    return [(m["direction"], m["text"]) for m in page["messages"]]


def test_agent_answers_follow_the_visitors_messages(client, sqlite_runtime):
    session = visitor(client, sqlite_runtime, "Where is my parcel?")
    answer = agent(client, 1, "replies", "It ships <b>today</b>.")
    page = seen(client, session)
    assert texts(page) == [("in", "Where is my parcel?"), ("out", "It ships <b>today</b>.")]
    out = page["messages"][1]
    assert out["id"] == f"reply-{answer['id']}" and out["from"] == "Demo Inc."


def test_internal_notes_are_never_shown(client, sqlite_runtime):
    session = visitor(client, sqlite_runtime, "Hello?")
    agent(client, 1, "notes", "internal: refund was refused twice")
    agent(client, 1, "replies", "Hello, how can we help?")
    for since in (None, "0"):
        page = seen(client, session, since)
        assert texts(page) == [("in", "Hello?"), ("out", "Hello, how can we help?")]
        assert "refused" not in str(page)


def test_since_returns_only_what_is_new(client, sqlite_runtime):
    session = visitor(client, sqlite_runtime, "first question")
    first = seen(client, session)
    assert texts(first) == [("in", "first question")]
    agent(client, 1, "replies", "first answer")
    second = seen(client, session, first["cursor"])
    assert texts(second) == [("out", "first answer")]
    assert int(second["cursor"]) > int(first["cursor"])
    third = seen(client, session, second["cursor"])
    assert third["messages"] == [] and third["cursor"] == second["cursor"]


def test_a_conversation_not_stored_yet_has_cursor_zero(client):
    session = say(client, "still queued").get_json()["session"]
    page = seen(client, session)
    assert page["messages"] == [] and page["cursor"] == "0"


@pytest.mark.parametrize("since", ["abc", "-1", "1e3", " 5", "9" * 19, "٣"])
def test_a_since_that_is_no_cursor_is_400(client, sqlite_runtime, since):
    session = visitor(client, sqlite_runtime, "hi")
    response = client.get("/chat/demo/messages", query_string={"since": since},
                          headers={"X-Chat-Session": session})
    assert response.status_code == 400
    assert "since" in response.get_json()["error"]["fields"]


def test_a_visitor_cannot_read_another_conversation(client, sqlite_runtime):
    mine = visitor(client, sqlite_runtime, "my own question")
    theirs = visitor(client, sqlite_runtime, "someone else's secret")
    agent(client, 2, "replies", "answer to someone else")
    their_ids = URLSafeSerializer(CHAT_SECRET, salt="ticketgate-chat-widget:demo").loads(theirs)
    # Naming their conversation in the query, or paging from the start, changes nothing.
    page = seen(client, mine, since="0")
    guessed = client.get("/chat/demo/messages", headers={"X-Chat-Session": mine},
                         query_string={"conversation_id": their_ids["c"], "visitor": their_ids["v"]})
    assert texts(page) == texts(guessed.get_json()) == [("in", "my own question")]
    # A token for their ids that the server did not sign: a guessed secret, another workspace's
    # salt, or no signature at all.
    forged = [URLSafeSerializer("guessed-secret", salt="ticketgate-chat-widget:demo"),
              URLSafeSerializer(CHAT_SECRET, salt="ticketgate-chat-widget:acme")]
    tokens = [s.dumps(their_ids) for s in forged] + [theirs.split(".")[0] + ".AAAA"]
    for token in tokens:
        response = client.get("/chat/demo/messages", headers={"X-Chat-Session": token})
        assert response.status_code == 401, token


def test_a_merged_ticket_shows_each_visitor_only_their_part(client, sqlite_runtime):
    """Two visitors' tickets merged: each sees their own messages, and an answer only when it
    went to them (an answer goes to the ticket's latest customer message)."""
    first = visitor(client, sqlite_runtime, "first visitor here")
    second = visitor(client, sqlite_runtime, "second visitor here")
    merged = client.post("/api/v1/tickets/2/merge", json={"into": 1}, headers=AGENT)
    assert merged.status_code == 200
    agent(client, 1, "replies", "answer to the latest writer")
    assert texts(seen(client, first)) == [("in", "first visitor here")]
    assert texts(seen(client, second)) == [("in", "second visitor here"),
                                           ("out", "answer to the latest writer")]
