"""The agents report over what routing did (SQLite and PostgreSQL): tickets routed by the
engine to the file's agents, a chat ticket offered then accepted (an offer holds capacity
before it is accepted, and counts as assigned once it is), channel weights in the load."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.gateway.apifactory import auth, get
from tests.gateway.test_api_reports import HOUR, MONDAY, Clock
from tests.routing_store.conftest import make_config
from tests.routing_store.helpers import patch, routed_ticket, ticket

CLOCKED = ("tickets.assign", "tickets.route_batch", "tickets.agents", "tickets.offers")


@pytest.fixture
def test_config():
    return make_config(offer_channels=["chat"], offer_timeout_s=3600)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, CLOCKED)


def test_occupancy_and_assignments_follow_routing(rt_client, clock):
    rt, client = rt_client
    # alice holds 2 emails (weight 1) and 1 chat (weight 3): 5 units; only she has billing 2
    email_1 = routed_ticket(rt, skills={"billing": 2}, created_at=MONDAY)
    email_2 = routed_ticket(rt, skills={"billing": 2}, created_at=MONDAY)
    chat = routed_ticket(rt, skills={"billing": 2}, channel="chat", created_at=MONDAY)
    assert ticket(rt, chat).routing_state == "offered"
    clock.at(timedelta(minutes=30))
    accepted = client.post(f"/api/v1/tickets/{chat}/accept", json={"agent": "alice"},
                           headers=auth())
    assert accepted.status_code == 200, accepted.get_json()
    clock.at(timedelta(hours=1))
    assert patch(client, email_1, {"status": "resolved"}).status_code == 200

    response = get(client, "/api/v1/reports/agents?from=2024-05-06T08:00:00Z"
                           "&to=2024-05-06T10:00:00Z")
    found = {row["agent"]: row for row in response.get_json()["rows"]}
    alice, bob = found["alice"], found["bob"]
    assert (alice["assigned"], alice["resolved"], alice["handled"]) == (3, 1, 3)
    assert alice["resolution"]["p50_s"] == HOUR
    assert alice["sla"] == {"met": 1, "breached": 0}
    # email 1 for 1 h, email 2 for 2 h, the chat (offered, then accepted) 3 units for 2 h:
    # 9 unit-hours over 5 units for 2 h online
    assert (alice["online_s"], alice["occupancy"]) == (2 * HOUR, 0.9)
    assert (bob["assigned"], bob["online_s"], bob["occupancy"]) == (0, 2 * HOUR, 0.0)
    assert email_2 and ticket(rt, email_2).assignee == "alice"


def test_an_offer_not_accepted_holds_capacity_but_is_not_assigned(rt_client, clock):
    rt, client = rt_client
    routed_ticket(rt, skills={"billing": 2}, channel="chat", created_at=MONDAY)
    response = get(client, "/api/v1/reports/agents?from=2024-05-06T08:00:00Z"
                           "&to=2024-05-06T09:00:00Z")
    alice = {row["agent"]: row for row in response.get_json()["rows"]}["alice"]
    assert (alice["assigned"], alice["occupancy"]) == (0, 0.6)
