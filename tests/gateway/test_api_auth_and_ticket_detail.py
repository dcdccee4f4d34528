"""The REST API's bearer-key auth and workspace isolation, and the ticket detail endpoint."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.gateway.apifactory import BASE_TIME, add_message, add_ticket, get

MESSAGE_KEYS = {"id", "direction", "channel", "native_id", "from", "to", "cc", "subject", "text",
                "reply_text", "html", "attachments", "classification", "created_at"}


# --- authentication and isolation ---

def test_missing_key_is_401_json(client):
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_wrong_key_is_401(client):
    response = client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_non_bearer_scheme_is_401(client):
    response = client.get("/api/v1/tickets", headers={"Authorization": "Basic demo-test-key"})
    assert response.status_code == 401


def test_other_workspaces_ticket_is_404(client, runtime):
    with runtime.sessions.begin() as session:
        add_ticket(session, "demo")
    assert get(client, "/api/v1/tickets/1", "demo").status_code == 200
    assert get(client, "/api/v1/tickets/1", "acme").status_code == 404


def test_list_shows_only_the_keys_workspace(client, runtime):
    with runtime.sessions.begin() as session:
        add_ticket(session, "demo", subject="ours")
        add_ticket(session, "acme", subject="theirs")
    subjects = [t["subject"] for t in get(client, "/api/v1/tickets").get_json()["tickets"]]
    assert subjects == ["ours"]


# --- ticket detail ---

def test_ticket_detail_has_messages_oldest_first(client, runtime):
    with runtime.sessions.begin() as session:
        ticket = add_ticket(session)
        add_message(session, ticket, "second", created_at=BASE_TIME + timedelta(hours=2))
        add_message(session, ticket, "first", created_at=BASE_TIME + timedelta(hours=1),
                    from_name="Jane", from_address="jane@example.com",
                    attachments=[{"filename": "a.pdf", "content_type": "application/pdf",
                                  "size": 3, "sha256": "cd" * 32}])
    body = get(client, "/api/v1/tickets/1").get_json()
    assert [m["text"] for m in body["messages"]] == ["first", "second"]
    first = body["messages"][0]
    assert MESSAGE_KEYS <= set(first)
    assert first["from"] == {"name": "Jane", "address": "jane@example.com"}
    assert first["attachments"][0]["filename"] == "a.pdf"
    assert first["classification"] == "normal"
    assert body["message_count"] == 2


def test_ticket_detail_sla_defaults_and_links(client, runtime):
    with runtime.sessions.begin() as session:
        old = add_ticket(session)
        add_ticket(session, merged_into_id=old.id, follow_up_of_id=old.id,
                   sla={"first_response_due": "2024-05-01T10:00:00+00:00", "breached": True},
                   routing_reason={"rule": "skills"})
    body = get(client, "/api/v1/tickets/2").get_json()
    assert body["sla"] == {"first_response_due": "2024-05-01T10:00:00Z",
                           "next_response_due": None, "resolution_due": None, "breached": True}
    assert (body["merged_into"], body["follow_up_of"]) == (1, 1)
    assert body["routing"] == {"reason": {"rule": "skills"}}
    empty = get(client, "/api/v1/tickets/1").get_json()
    assert empty["sla"]["breached"] is False and empty["merged_into"] is None


def test_follow_ups_are_linked_both_ways(client, runtime):
    with runtime.sessions.begin() as session:
        old = add_ticket(session)
        add_ticket(session)
        add_ticket(session, follow_up_of_id=old.id)
        add_ticket(session, follow_up_of_id=old.id)
    assert get(client, "/api/v1/tickets/1").get_json()["follow_ups"] == [3, 4]
    assert get(client, "/api/v1/tickets/3").get_json()["follow_ups"] == []
    listed = {t["number"]: t["follow_ups"] for t in
              get(client, "/api/v1/tickets").get_json()["tickets"]}
    assert listed == {1: [3, 4], 2: [], 3: [], 4: []}


@pytest.mark.parametrize("number", ["99", "9" * 30, "abc", "-1"])
def test_unknown_or_invalid_ticket_number_is_404(client, number):
    response = get(client, f"/api/v1/tickets/{number}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
