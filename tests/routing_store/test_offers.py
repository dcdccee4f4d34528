"""Offer-and-accept in the store and the API: a chat ticket is offered to the best agent,
holds its capacity until accepted, declined or expired; a lapsed offer is routed again
without that agent; email is still assigned directly."""
import time
from datetime import datetime, timedelta

import pytest

from store.models import utcnow
from tests.gateway.apifactory import auth
from tests.routing_store.conftest import make_config
from tests.routing_store.helpers import (events, get_agent, holders, patch, put_agent,
                                         routed_ticket, ticket, webhook_changes)
from workers.assignment import sweep

AGENTS = [
    {"id": "alice", "skills": {"billing": 3}, "capacity": {"email": 2, "chat": 1},
     "status": "online"},
    {"id": "carol", "skills": {"billing": 1}, "capacity": {"chat": 1}, "status": "online"},
]


@pytest.fixture
def test_config():
    return make_config(agents=AGENTS, offer_channels=["chat"], offer_timeout_s=30)


def chat_ticket(rt) -> int:
    return routed_ticket(rt, channel="chat", skills={"billing": 1})


def answer(client, number: int, verb: str, body, slug: str = "demo"):
    return client.post(f"/api/v1/tickets/{number}/{verb}", json=body, headers=auth(slug))


def offers_of(client, agent: str) -> list[int]:
    response = client.get(f"/api/v1/agents/{agent}/offers", headers=auth("demo"))
    assert response.status_code == 200
    return [offer["number"] for offer in response.get_json()["offers"]]


def test_a_chat_ticket_is_offered_and_holds_capacity_until_accepted(rt_client):
    rt, client = rt_client
    number = chat_ticket(rt)
    row = ticket(rt, number)
    assert (row.routing_state, row.assignee) == ("offered", None)
    assert row.routing_reason["decision"] == "offer" and row.routing_reason["agent"] == "alice"
    assert holders(rt) == {number: "alice"}
    assert get_agent(client, "alice").get_json()["load"] == {"chat": 1, "email": 0}
    listed = client.get("/api/v1/agents/alice/offers", headers=auth("demo")).get_json()
    assert listed["offers"][0]["number"] == number
    assert datetime.fromisoformat(listed["offers"][0]["expires_at"]) == \
        datetime.fromisoformat(row.routing_reason["offer_expires"])
    assert events(rt, number, "offer") == [("offer", "", "alice", "router")]

    second = chat_ticket(rt)  # alice is full (an offer counts): the next goes to carol
    assert holders(rt) == {number: "alice", second: "carol"}
    third = chat_ticket(rt)
    assert ticket(rt, third).routing_state == "waiting"

    response = answer(client, number, "accept", {"agent": "alice"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["assignee"] == "alice"
    assert body["routing"]["reason"]["trigger"] == "accept"
    assert ticket(rt, number).routing_state == "assigned"
    assert events(rt, number, "assignee") == [("assignee", "", "alice", "alice")]
    assert offers_of(client, "alice") == []
    assert (number, {"kind": "assigned", "agent": "alice", "trigger": "accept"}) \
        in webhook_changes(rt)


def test_only_the_offered_agent_can_answer_and_only_once(rt_client):
    rt, client = rt_client
    number = chat_ticket(rt)
    refused = answer(client, number, "accept", {"agent": "carol"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "not_offered"
    assert answer(client, number, "accept", {"agent": "alice"}).status_code == 200
    again = answer(client, number, "decline", {"agent": "alice"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_offered"
    assert holders(rt) == {number: "alice"}


def test_a_declined_offer_goes_to_the_next_agent_and_never_back(rt_client):
    rt, client = rt_client
    number = chat_ticket(rt)
    response = answer(client, number, "decline", {"agent": "alice"})
    assert response.status_code == 200
    assert response.get_json()["routing"]["reason"]["agent"] == "carol"
    row = ticket(rt, number)
    assert (row.routing_state, row.excluded) == ("offered", ["alice"])
    assert holders(rt) == {number: "carol"}
    assert events(rt, number, "offer") == [("offer", "", "alice", "router"),
                                           ("offer", "alice", "declined", "router"),
                                           ("offer", "", "carol", "router")]
    changes = [change for n, change in webhook_changes(rt) if n == number]
    assert {"kind": "offer_declined", "agent": "alice"} in changes
    assert any(c["kind"] == "offered" and c["agent"] == "carol" for c in changes)

    assert answer(client, number, "decline", {"agent": "carol"}).status_code == 200
    row = ticket(rt, number)
    assert (row.routing_state, sorted(row.excluded)) == ("waiting", ["alice", "carol"])
    assert holders(rt) == {}
    later = chat_ticket(rt)  # both have room again: the newcomer is offered at once
    assert ticket(rt, later).routing_state == "offered"


def test_an_expired_offer_is_lapsed_by_the_sweep_and_routed_again(rt_client):
    rt, client = rt_client
    number = chat_ticket(rt)
    assert sweep.sweep(rt, now=utcnow() + timedelta(seconds=10))["offers_expired"] == 0
    done = sweep.sweep(rt, now=utcnow() + timedelta(seconds=31))
    assert done["offers_expired"] == 1
    assert holders(rt) == {number: "carol"}
    assert events(rt, number, "offer")[1] == ("offer", "alice", "offer_timeout", "router")
    assert get_agent(client, "alice").get_json()["status"] == "online"


@pytest.mark.parametrize("test_config", [make_config(
    agents=AGENTS, offer_channels=["chat"], offer_timeout_s=30, timeout_sets_away=True)])
def test_timeout_sets_away_takes_the_agent_out_of_routing(rt_client):
    rt, client = rt_client
    number = chat_ticket(rt)
    sweep.sweep(rt, now=utcnow() + timedelta(seconds=31))
    assert get_agent(client, "alice").get_json()["status"] == "away"
    assert holders(rt) == {number: "carol"}


@pytest.mark.parametrize("test_config", [make_config(
    agents=AGENTS, offer_channels=["chat"], offer_timeout_s=0.05)])
def test_an_offer_past_its_deadline_cannot_be_accepted(rt_client):
    rt, client = rt_client
    number = chat_ticket(rt)
    time.sleep(0.1)
    response = answer(client, number, "accept", {"agent": "alice"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "offer_expired"
    assert ticket(rt, number).assignee is None


@pytest.mark.parametrize("test_config", [make_config(
    agents=AGENTS, on_absence="keep", offer_channels=["chat"], offer_timeout_s=30)])
def test_going_away_withdraws_offers_even_when_tickets_are_kept(rt_client):
    rt, client = rt_client
    kept = routed_ticket(rt, skills={"billing": 3})  # email: assigned directly, kept
    offered = chat_ticket(rt)
    assert holders(rt) == {kept: "alice", offered: "alice"}
    assert ticket(rt, kept).routing_state == "assigned"
    assert put_agent(client, "alice", {"status": "away", "capacity": {"email": 2, "chat": 1},
                                       "skills": {"billing": 3}}).status_code == 200
    assert holders(rt) == {kept: "alice", offered: "carol"}


def test_a_manual_assignment_of_an_offered_ticket_is_not_an_offer(rt_client):
    rt, client = rt_client
    number = chat_ticket(rt)
    response = patch(client, number, {"assignee": "alice"})
    assert response.status_code == 200
    assert response.get_json()["assignee"] == "alice"
    assert ticket(rt, number).routing_state == "assigned"
    assert offers_of(client, "alice") == []
    assert holders(rt) == {number: "alice"}


@pytest.mark.parametrize("body, field", [
    ({}, "agent"), ({"agent": ""}, "agent"), ({"agent": 5}, "agent"),
    ({"agent": "alice", "extra": 1}, "extra")])
def test_bad_answers_are_400s_naming_the_field(rt_client, body, field):
    rt, client = rt_client
    number = chat_ticket(rt)
    response = answer(client, number, "accept", body)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]
    not_json = client.post(f"/api/v1/tickets/{number}/decline", data="{",
                           headers={**auth("demo"), "Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert holders(rt) == {number: "alice"}


def test_unknown_tickets_agents_and_other_workspaces_are_404s(rt_client):
    rt, client = rt_client
    number = chat_ticket(rt)
    assert answer(client, 9999, "accept", {"agent": "alice"}).status_code == 404
    assert answer(client, number, "accept", {"agent": "alice"}, slug="acme").status_code == 404
    missing = client.get("/api/v1/agents/nobody/offers", headers=auth("demo"))
    assert missing.status_code == 404
    assert client.get("/api/v1/agents/alice/offers").status_code == 401
