"""``GET /api/v1/tickets/<number>/events``: the audit trail of a ticket, oldest first and
cursor-paginated; and the ticket list filtered by the channel a ticket reports (``telegram``,
also reached as ``messenger``, its queue's former name)."""
from __future__ import annotations

from store import repo
from tests.gateway.apifactory import add_entry, add_ticket, auth, get


def patch(client, number: int, body: dict):
    response = client.patch(f"/api/v1/tickets/{number}", json=body, headers=auth("demo"))
    assert response.status_code == 200, response.get_json()
    return response


def test_events_list_every_change_oldest_first_with_actor_and_time(client, runtime):
    with runtime.sessions.begin() as session:
        number = add_ticket(session, status="open").number
    patch(client, number, {"status": "postponed"})
    patch(client, number, {"priority": "high"})
    patch(client, number, {"status": "resolved"})

    body = get(client, f"/api/v1/tickets/{number}/events").get_json()
    changes = [(e["kind"], e["old"], e["new"]) for e in body["events"]]
    assert changes == [("status", "open", "postponed"), ("priority", "medium", "high"),
                       ("status", "postponed", "resolved")]
    assert all(e["actor"] and e["at"].endswith("Z") for e in body["events"])
    assert body["next_cursor"] is None


def test_events_are_paginated_by_cursor(client, runtime):
    with runtime.sessions.begin() as session:
        number = add_ticket(session, status="open").number
    for status in ("postponed", "open", "resolved"):
        patch(client, number, {"status": status})
    first = get(client, f"/api/v1/tickets/{number}/events?limit=2").get_json()
    assert [e["new"] for e in first["events"]] == ["postponed", "open"]
    rest = get(client, f"/api/v1/tickets/{number}/events?limit=2&cursor="
                       f"{first['next_cursor']}").get_json()
    assert [e["new"] for e in rest["events"]] == ["resolved"]
    assert rest["next_cursor"] is None


def test_events_of_another_workspace_or_a_missing_ticket_are_404(client, runtime):
    with runtime.sessions.begin() as session:
        number = add_ticket(session, slug="acme").number
    assert get(client, f"/api/v1/tickets/{number}/events").status_code == 404
    assert get(client, "/api/v1/tickets/999/events").status_code == 404
    assert get(client, f"/api/v1/tickets/{number}/events", "acme").status_code == 200


def test_a_cursor_of_another_list_is_refused(client, runtime):
    with runtime.sessions.begin() as session:
        number = add_ticket(session).number
        for _ in range(2):
            add_entry(session)
    cursor = get(client, "/api/v1/quarantine?limit=1").get_json()["next_cursor"]
    response = get(client, f"/api/v1/tickets/{number}/events?cursor={cursor}")
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == ["cursor"]


def test_a_walk_through_the_pages_sees_every_event_once_even_while_new_ones_come(client, runtime):
    with runtime.sessions.begin() as session:
        ticket = add_ticket(session, status="open")
        for n in range(7):
            repo.audit(session, ticket, "tags", str(n), str(n + 1), "alice")
        number, ticket_id = ticket.number, ticket.id
    seen, cursor = [], ""
    while True:
        body = get(client, f"/api/v1/tickets/{number}/events?limit=3&cursor={cursor}").get_json()
        seen += [e["new"] for e in body["events"]]
        if len(seen) == 3:  # an entry written between two pages comes on a later one
            with runtime.sessions.begin() as session:
                repo.audit(session, session.get(type(ticket), ticket_id), "tags", "7", "8", "bob")
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(n) for n in range(1, 9)]


def test_events_need_the_workspace_key(client, runtime):
    with runtime.sessions.begin() as session:
        number = add_ticket(session).number
    assert client.get(f"/api/v1/tickets/{number}/events").status_code == 401
    wrong = {"Authorization": "Bearer not-a-key"}
    assert client.get(f"/api/v1/tickets/{number}/events", headers=wrong).status_code == 401


def test_a_bad_limit_or_cursor_is_a_400_naming_it(client, runtime):
    with runtime.sessions.begin() as session:
        number = add_ticket(session).number
    for query, field in (("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
                         ("cursor=bm90LWEtY3Vyc29y", "cursor"), ("cursor=%00", "cursor")):
        response = get(client, f"/api/v1/tickets/{number}/events?{query}")
        assert response.status_code == 400, query
        assert list(response.get_json()["error"]["fields"]) == [field], query


def test_the_audit_trail_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/tickets/{number}/events"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"number", "limit", "cursor"}
    assert {"200", "400", "401", "404"} <= set(operation["responses"])


def test_telegram_tickets_are_listed_by_the_channel_they_report(client, runtime):
    with runtime.sessions.begin() as session:
        telegram = add_ticket(session, channel="telegram").number
        add_ticket(session, channel="email")
    for name in ("telegram", "messenger"):
        listed = get(client, f"/api/v1/tickets?channel={name}").get_json()["tickets"]
        assert [(t["number"], t["channel"]) for t in listed] == [(telegram, "telegram")]
