"""Routing reacts to changes made over the API: freed capacity goes to the best waiting ticket,
an agent coming online takes waiting work, an agent going away or offline loses tickets as the
workspace's ``on_absence`` policy says."""
import pytest
from prometheus_client.parser import text_string_to_metric_families

from store import repo
from store.models import utcnow
from tests.gateway.apifactory import auth
from tests.routing_store.conftest import make_config
from tests.routing_store.helpers import events, holders, patch, put_agent, routed_ticket, ticket

BOB_ONLY = {"capacity": {"email": 1}, "status": "online"}


@pytest.fixture
def alice_away(rt_client):
    rt, client = rt_client
    assert put_agent(client, "alice", {"status": "away"}).status_code == 200
    return rt, client


def test_resolving_frees_capacity_for_the_best_waiting_ticket(alice_away):
    rt, client = alice_away
    held = routed_ticket(rt)
    low = routed_ticket(rt, priority="low")
    urgent = routed_ticket(rt, priority="urgent")
    high = routed_ticket(rt, priority="high")
    assert holders(rt) == {held: "bob"}
    assert {ticket(rt, n).routing_state for n in (low, urgent, high)} == {"waiting"}
    assert patch(client, held, {"status": "resolved"}).status_code == 200
    assert holders(rt) == {urgent: "bob"}
    assert ticket(rt, urgent).assignee == "bob"
    assert events(rt, urgent, "assignee") == [("assignee", "", "bob", "router")]
    assert ticket(rt, held).routing_state == "done"
    assert patch(client, urgent, {"status": "closed"}).status_code == 200
    assert holders(rt) == {high: "bob"}


def test_an_agent_coming_online_takes_waiting_tickets(alice_away):
    rt, client = alice_away
    numbers = [routed_ticket(rt) for _ in range(4)]
    assert holders(rt) == {numbers[0]: "bob"}
    response = put_agent(client, "alice", {"status": "online", "capacity": {"email": 2}})
    assert response.get_json()["load"] == {"email": 2}
    assert holders(rt) == {numbers[0]: "bob", numbers[1]: "alice", numbers[2]: "alice"}


def test_decisions_of_the_reactions_are_counted_in_metrics(alice_away):
    rt, client = alice_away
    [routed_ticket(rt) for _ in range(3)]
    put_agent(client, "alice", {"status": "online", "capacity": {"email": 2}})
    text = client.get("/metrics").get_data(as_text=True)
    counted = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert counted[("ticketgate_routing_triggers_total", (("trigger", "capacity"),))] == 2


def test_raising_capacity_takes_waiting_tickets(alice_away):
    rt, client = alice_away
    numbers = [routed_ticket(rt) for _ in range(3)]
    put_agent(client, "bob", {"capacity": {"email": 3}, "status": "online"})
    assert holders(rt) == {n: "bob" for n in numbers}


def answered(rt, number: int) -> None:
    with rt.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo")
        repo.ticket_by_number(session, ws.id, number).first_response_at = utcnow()


@pytest.mark.parametrize("policy, moved", [
    ("requeue_all", {"answered", "unanswered"}), ("requeue_unanswered", {"unanswered"}),
    ("keep", set())])
def test_an_agent_going_offline_loses_tickets_per_policy(runtime, client, policy, moved):
    runtime.config = make_config(on_absence=policy)
    put_agent(client, "bob", {"capacity": {"email": 2}, "status": "offline"})
    tickets = {"answered": routed_ticket(runtime), "unanswered": routed_ticket(runtime)}
    answered(runtime, tickets["answered"])
    assert set(holders(runtime).values()) == {"alice"}
    put_agent(client, "bob", {"capacity": {"email": 2}, "status": "online"})
    assert put_agent(client, "alice", {"status": "offline", "capacity": {"email": 2}}) \
        .status_code == 200
    now = holders(runtime)
    assert {name for name, n in tickets.items() if now[n] == "bob"} == moved
    for name in moved:
        trail = events(runtime, tickets[name], "assignee")
        assert trail[-2:] == [("assignee", "alice", "", "router"),
                              ("assignee", "", "bob", "router")]


def test_tickets_of_an_absent_agent_wait_when_nobody_can_take_them(runtime, client):
    number = routed_ticket(runtime, skills={"billing": 2})
    assert holders(runtime) == {number: "alice"}
    put_agent(client, "alice", {"status": "away", "capacity": {"email": 2}})
    assert holders(runtime) == {}
    assert ticket(runtime, number).routing_state == "waiting"
    agents = client.get("/api/v1/agents", headers=auth()).get_json()["agents"]
    assert all(sum(a["load"].values()) == 0 for a in agents)
