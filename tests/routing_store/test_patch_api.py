"""PATCH /api/v1/tickets/<n>: each field with its audit trail and webhook event; validation;
merged tickets; workspace isolation."""
from datetime import timedelta, timezone

import pytest

from tickets.wire import iso
from store import repo
from tests.gateway.apifactory import add_ticket, auth
from tests.routing_store.helpers import events, patch, routed_ticket, ticket, webhook_changes
from tickets import actions


def test_status_change_is_audited_and_pushed(rt_client):
    rt, client = rt_client
    number = routed_ticket(rt)
    response = patch(client, number, {"status": "open", "author": "alice"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "open"
    assert events(rt, number, "status") == [("status", "new", "open", "alice")]
    assert webhook_changes(rt) == [(number, {"kind": "updated", "changes": {
        "status": {"old": "new", "new": "open"}}})]


def test_priority_and_tags_in_one_patch_make_one_event(rt_client):
    rt, client = rt_client
    number = routed_ticket(rt, tags=["old"])
    response = patch(client, number, {"priority": "urgent", "tags": [" vip ", "billing", "vip"]})
    body = response.get_json()
    assert (body["priority"], body["tags"]) == ("urgent", ["vip", "billing"])
    assert events(rt, number, "priority") == [("priority", "medium", "urgent", "api")]
    assert events(rt, number, "tags") == [("tags", "old", "vip, billing", "api")]
    [(_, change)] = webhook_changes(rt)
    assert change["changes"] == {"priority": {"old": "medium", "new": "urgent"},
                                 "tags": {"old": ["old"], "new": ["vip", "billing"]}}


def test_unchanged_values_record_and_push_nothing(rt_client):
    rt, client = rt_client
    number = routed_ticket(rt)
    response = patch(client, number, {"priority": "medium", "tags": []})
    assert response.status_code == 200
    assert events(rt, number, "priority") == [] and webhook_changes(rt) == []


def test_the_sla_clock_follows_priority_and_status(rt_client):
    rt, client = rt_client
    number = routed_ticket(rt)
    created = ticket(rt, number).created_at.replace(tzinfo=timezone.utc)
    sla = patch(client, number, {"priority": "urgent"}).get_json()["sla"]
    assert sla["first_response_due"] == iso(created + timedelta(minutes=15))
    assert patch(client, number, {"status": "postponed"}).status_code == 200
    assert ticket(rt, number).paused_since is not None
    body = patch(client, number, {"status": "resolved"}).get_json()
    assert ticket(rt, number).resolved_at is not None
    assert body["sla"]["resolution_due"] is None
    patch(client, number, {"status": "open"})
    assert ticket(rt, number).resolved_at is None and ticket(rt, number).paused_since is None


def test_manual_assignment_claims_the_agent(rt_client):
    rt, client = rt_client
    number = routed_ticket(rt, skills={"billing": 2})   # bob's level is too low
    assert ticket(rt, number).assignee == "alice"
    response = patch(client, number, {"assignee": "bob", "author": "lead"})
    body = response.get_json()
    assert body["assignee"] == "bob"
    assert body["routing"]["reason"]["decision"] == "manual"
    assert body["routing"]["reason"]["by"] == "lead"
    assert events(rt, number, "assignee")[-1] == ("assignee", "alice", "bob", "lead")
    loads = {a["id"]: a["load"] for a in client.get("/api/v1/agents", headers=auth())
             .get_json()["agents"]}
    assert loads == {"alice": {"email": 0, "chat": 0}, "bob": {"email": 1}}


def test_manual_assignment_over_capacity_is_refused(rt_client):
    rt, client = rt_client
    first = routed_ticket(rt)
    assert patch(client, first, {"assignee": "bob"}).status_code == 200
    second = routed_ticket(rt, skills={"billing": 2})
    response = patch(client, second, {"assignee": "bob", "priority": "high"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "agent_full" and "assignee" in error["fields"]
    assert "email 1/1" in error["message"]
    after = ticket(rt, second)
    assert (after.assignee, after.priority) == ("alice", "medium")   # nothing changed
    assert events(rt, second, "priority") == []


def test_manual_assignment_to_an_absent_agent_is_allowed(rt_client):
    rt, client = rt_client
    client.put("/api/v1/agents/bob", json={"capacity": {"email": 1}, "status": "offline"},
               headers=auth())
    number = routed_ticket(rt)
    assert patch(client, number, {"assignee": "bob"}).get_json()["assignee"] == "bob"


def test_unknown_agent_is_404_naming_assignee(rt_client):
    rt, client = rt_client
    number = routed_ticket(rt)
    response = patch(client, number, {"assignee": "nobody"})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "agent_not_found" and "assignee" in error["fields"]


def test_unassigning_sends_the_ticket_back_to_routing(rt_client):
    rt, client = rt_client
    client.put("/api/v1/agents/bob", json={"status": "offline"}, headers=auth())
    number = routed_ticket(rt)
    client.put("/api/v1/agents/alice", json={"status": "away", "capacity": {"email": 2}},
               headers=auth())  # absence re-routes: nobody is online, it waits
    routed_again = ticket(rt, number)
    assert (routed_again.assignee, routed_again.routing_state) == (None, "waiting")
    assert patch(client, number, {"assignee": "alice"}).get_json()["assignee"] == "alice"
    response = patch(client, number, {"assignee": None, "author": "alice"})
    assert response.get_json()["assignee"] is None
    assert ticket(rt, number).routing_state == "waiting"
    assert events(rt, number, "assignee")[-1] == ("assignee", "alice", "", "alice")


def test_reopening_routes_again(rt_client):
    rt, client = rt_client
    number = routed_ticket(rt, skills={"billing": 2})   # only alice can take it
    assert patch(client, number, {"status": "resolved"}).get_json()["assignee"] == "alice"
    assert ticket(rt, number).routing_state == "done"
    body = patch(client, number, {"status": "open"}).get_json()
    assert body["assignee"] == "alice" and body["routing"]["reason"]["decision"] == "assign"
    assert ticket(rt, number).routing_state == "assigned"


def test_merged_ticket_forwards_to_its_survivor(rt_client):
    rt, client = rt_client
    source, target = routed_ticket(rt), routed_ticket(rt)
    with rt.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo")
        actions.merge(session, ws, repo.ticket_by_number(session, ws.id, source),
                            repo.ticket_by_number(session, ws.id, target))
    response = patch(client, source, {"priority": "high"})
    assert response.status_code == 200 and response.get_json()["number"] == target
    assert ticket(rt, target).priority == "high" and ticket(rt, source).priority == "medium"


@pytest.mark.parametrize("body, field", [
    ({"status": "done"}, "status"), ({"status": None}, "status"),
    ({"priority": 1}, "priority"), ({"priority": "critical"}, "priority"),
    ({"assignee": ""}, "assignee"), ({"assignee": 5}, "assignee"),
    ({"assignee": "bad id!"}, "assignee"),
    ({"tags": "vip"}, "tags"), ({"tags": [""]}, "tags[0]"), ({"tags": ["ok", 1]}, "tags[1]"),
    ({"tags": ["x" * 51]}, "tags[0]"), ({"tags": ["a\nb"]}, "tags[0]"),
    ({"tags": [str(i) for i in range(51)]}, "tags"),
    ({"author": 7, "status": "open"}, "author"),
    ({"author": "nul\x00", "status": "open"}, "author"), ({"tags": ["a\x00"]}, "tags[0]"),
    ({"subject": "new subject"}, "subject"),
    ({}, "body"), ({"author": "alice"}, "body"),
])
def test_invalid_patch_is_400_naming_the_field(rt_client, body, field):
    rt, client = rt_client
    number = routed_ticket(rt)
    response = patch(client, number, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field in response.get_json()["error"]["fields"]
    assert events(rt, number, "status") == []


def test_body_that_is_no_json_object_is_400(rt_client):
    rt, client = rt_client
    number = routed_ticket(rt)
    response = client.patch(f"/api/v1/tickets/{number}", data="status=open", headers=auth())
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


def test_unknown_and_foreign_tickets_are_404(rt_client):
    rt, client = rt_client
    demo = [routed_ticket(rt) for _ in range(2)]                   # demo #1, #2
    with rt.sessions.begin() as session:
        acme = [add_ticket(session, "acme").number for _ in range(3)]  # acme #1, #2, #3
    assert patch(client, demo[1], {"status": "open"}, slug="acme").status_code == 200  # acme #2
    assert patch(client, acme[2], {"status": "open"}).status_code == 404   # demo has no #3
    assert patch(client, 999, {"status": "open"}).status_code == 404
    assert patch(client, 2**40, {"status": "open"}).status_code == 404
    assert [ticket(rt, n).status for n in demo] == ["new", "new"]
    assert ticket(rt, 2, slug="acme").status == "open"
    number = demo[0]
    assert client.patch(f"/api/v1/tickets/{number}", json={"status": "open"}).status_code == 401
