"""Routing metrics on /metrics: decision counters and queue waits counted in the real Redis,
routing state read from the real store (SQLite and PostgreSQL), and a dead store or Redis."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import select

from config.workspaces import parse_config
from tickets import routing_metrics
from tickets.routing_metrics import count_decisions
from gateway.web import create_app
from routing.model import Decision
from store import repo
from store.models import Agent, Assignment, Ticket, utcnow
from tests.conftest import TEST_CONFIG, make_runtime
from tests.gateway.apifactory import add_ticket
from tests.gateway.test_health import CLOSED_POSTGRES, CLOSED_REDIS, samples
from tickets import assign
from tickets.agents import seed_agents

DEMO = ("workspace", "demo")


def decision(kind: str, **explanation) -> Decision:
    return Decision("1", kind, "alice" if kind in ("assign", "offer") else None, 0.0,
                    explanation)


def add_agent(session, key: str, status: str = "online", capacity=None, total: float = 0.0,
              slug: str = "demo") -> Agent:
    agent = Agent(workspace_id=repo.workspace_row(session, slug).id, key=key, status=status,
                  capacity={"email": 4} if capacity is None else capacity, total=total)
    session.add(agent)
    session.flush()
    return agent


def assigned(session, agent: Agent, ago_s: float = 60, ended: bool = False,
             channel: str = "email") -> None:
    """A ticket of the agent's workspace assigned to it ``ago_s`` seconds ago."""
    ticket = add_ticket(session, channel=channel, routing_state="assigned")
    started = utcnow() - timedelta(seconds=ago_s)
    session.add(Assignment(workspace_id=agent.workspace_id, ticket_id=ticket.id,
                           customer_id=ticket.customer_id,
                           agent_id=agent.id, channel=channel, started_at=started,
                           accepted_at=started,
                           ended_at=started + timedelta(seconds=1) if ended else None))
    session.flush()


def jain(values: list[float]) -> float:
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


def families(response) -> set[str]:
    return {name for name, _labels in samples(response)}


# --- count_decisions ---

def test_decisions_are_counted_by_kind_and_trigger(client, runtime):
    count_decisions(runtime.redis, [decision("assign", trigger="arrival"),
                                    decision("assign", trigger="capacity"),
                                    decision("wait", trigger="arrival"),
                                    decision("park", trigger="ladder")])
    count_decisions(runtime.redis, [decision("assign", trigger="arrival")])
    found = samples(client.get("/metrics"))
    kinds = {k: found[("ticketgate_routing_decisions_total", (("kind", k),))]
             for k in ("assign", "offer", "wait", "park", "escalate")}
    assert kinds == {"assign": 3, "offer": 0, "wait": 1, "park": 1, "escalate": 0}
    assert found[("ticketgate_routing_triggers_total", (("trigger", "arrival"),))] == 3
    assert found[("ticketgate_routing_triggers_total", (("trigger", "ladder"),))] == 1


def test_waits_of_tickets_handed_to_an_agent_fill_the_wait_histogram(client, runtime):
    count_decisions(runtime.redis, [decision("assign", waited_s=10.0),
                                    decision("assign", waited_s=7200.0),
                                    decision("offer", waited_s=0.5),
                                    decision("assign", trigger="arrival"),  # never waited
                                    decision("wait", waited_s=99.0)])  # still waiting
    found = samples(client.get("/metrics"))
    name, assign_ = "ticketgate_routing_wait_seconds", ("kind", "assign")
    assert found[(f"{name}_bucket", (assign_, ("le", "5.0")))] == 0
    assert found[(f"{name}_bucket", (assign_, ("le", "15.0")))] == 1
    assert found[(f"{name}_bucket", (assign_, ("le", "7200.0")))] == 2
    assert found[(f"{name}_bucket", (assign_, ("le", "+Inf")))] == 2
    assert found[(f"{name}_count", (assign_,))] == 2
    assert found[(f"{name}_sum", (assign_,))] == pytest.approx(7210.0)
    assert found[(f"{name}_bucket", (("kind", "offer"), ("le", "1.0")))] == 1


def test_a_wait_that_is_not_a_number_is_not_observed_but_the_decision_is_counted(
        client, runtime):
    count_decisions(runtime.redis, [decision("assign", waited_s="10"),
                                    decision("assign", waited_s=float("nan")),
                                    decision("assign", waited_s=True),
                                    decision("assign", waited_s=-3.0)])  # clock skew: 0
    found = samples(client.get("/metrics"))
    assert found[("ticketgate_routing_decisions_total", (("kind", "assign"),))] == 4
    assert found[("ticketgate_routing_wait_seconds_count", (("kind", "assign"),))] == 1
    assert found[("ticketgate_routing_wait_seconds_sum", (("kind", "assign"),))] == 0


def test_counting_with_redis_down_does_not_raise():
    count_decisions(Redis.from_url(CLOSED_REDIS), [decision("assign", waited_s=1.0)])


# --- routing state from the store ---

def test_agent_load_counts_open_assignments_and_capacity_comes_from_the_agent(client, runtime):
    with runtime.sessions.begin() as session:
        alice = add_agent(session, "alice", capacity={"email": 3, "chat": 1})
        bob = add_agent(session, "bob", status="offline", capacity={"email": 2})
        assigned(session, alice)
        assigned(session, alice)
        assigned(session, alice, ended=True)  # finished: no load
        assigned(session, alice, channel="form")  # a channel it has no capacity on any more
        assigned(session, bob, channel="email")
    found = samples(client.get("/metrics"))

    def value(metric, agent, channel):
        return found[(f"ticketgate_routing_agent_{metric}",
                      (("agent", agent), ("channel", channel), DEMO))]
    assert (value("load", "alice", "email"), value("capacity", "alice", "email")) == (2, 3)
    assert (value("load", "alice", "chat"), value("capacity", "alice", "chat")) == (0, 1)
    assert (value("load", "alice", "form"), value("capacity", "alice", "form")) == (1, 0)
    assert (value("load", "bob", "email"), value("capacity", "bob", "email")) == (1, 2)


def test_at_most_max_agents_are_listed(client, runtime, monkeypatch):
    monkeypatch.setattr(routing_metrics, "MAX_AGENTS", 2)
    with runtime.sessions.begin() as session:
        for key in ("carol", "alice", "bob"):
            add_agent(session, key)
    found = samples(client.get("/metrics"))
    listed = {dict(labels)["agent"] for name, labels in found
              if name == "ticketgate_routing_agent_capacity"}
    assert listed == {"alice", "bob"}


def test_waiting_parked_and_breached_tickets_are_counted_per_workspace(client, runtime):
    with runtime.sessions.begin() as session:
        for priority in ("high", "high", "urgent"):
            add_ticket(session, routing_state="waiting", priority=priority)
        add_ticket(session, routing_state="parked")
        add_ticket(session, "acme", routing_state="parked")
        add_ticket(session, status="open", sla={"breached": True, "breaches": ["first_response"]})
        add_ticket(session, status="postponed", sla={"breached": True})
        add_ticket(session, status="resolved", sla={"breached": True})  # not open
        add_ticket(session, status="open", sla={"breached": False})
        add_ticket(session, status="open", sla={})
    found = samples(client.get("/metrics"))
    waiting = {p: found[("ticketgate_routing_waiting", (("priority", p), DEMO))]
               for p in ("urgent", "high", "medium", "low")}
    assert waiting == {"urgent": 1, "high": 2, "medium": 0, "low": 0}
    assert found[("ticketgate_routing_parked", (DEMO,))] == 1
    assert found[("ticketgate_routing_parked", (("workspace", "acme"),))] == 1
    assert found[("ticketgate_sla_breached_open", (DEMO,))] == 2
    assert found[("ticketgate_sla_breached_open", (("workspace", "acme"),))] == 0


def fairness(found, window: str) -> float | None:
    return found.get(("ticketgate_routing_fairness", (("window", window), DEMO)))


def test_fairness_is_one_for_equal_shares_of_capacity(client, runtime):
    with runtime.sessions.begin() as session:
        alice = add_agent(session, "alice", total=4)
        bob = add_agent(session, "bob", capacity={"email": 2, "chat": 2}, total=8)
        for _ in range(2):
            assigned(session, alice, ago_s=600)
        for _ in range(4):
            assigned(session, bob, ago_s=1200)
    found = samples(client.get("/metrics"))
    assert fairness(found, "1h") == pytest.approx(1.0)
    assert fairness(found, "24h") == pytest.approx(1.0)


def test_fairness_is_below_one_for_skewed_shares_over_online_agents_only(client, runtime):
    with runtime.sessions.begin() as session:
        alice = add_agent(session, "alice", total=4)
        # no total: the channel capacities weighted by the default policy (email 1, chat 3)
        bob = add_agent(session, "bob", capacity={"email": 2, "chat": 1})
        carol = add_agent(session, "carol", status="away", total=4)
        for _ in range(4):
            assigned(session, alice, ago_s=300)
        assigned(session, bob, ago_s=1800)
        for _ in range(2):
            assigned(session, bob, ago_s=5 * 3600)
        assigned(session, bob, ago_s=30 * 3600)  # outside both windows
        for _ in range(5):
            assigned(session, carol, ago_s=60)  # not online: not in the index
    found = samples(client.get("/metrics"))
    assert fairness(found, "1h") == pytest.approx(jain([4 / 4, 1 / 5]))
    assert fairness(found, "24h") == pytest.approx(jain([4 / 4, 3 / 5]))
    assert fairness(found, "1h") < 0.9


def test_fairness_is_omitted_with_one_online_agent_or_no_assignment(client, runtime):
    with runtime.sessions.begin() as session:
        alice = add_agent(session, "alice")
        add_agent(session, "bob", status="offline")
        add_agent(session, "carol", capacity={})  # online without capacity: no share
        assigned(session, alice)
        for key in ("a", "b"):  # two online agents in acme, but no assignment yet
            add_agent(session, key, slug="acme")
    found = samples(client.get("/metrics"))
    assert fairness(found, "1h") is None and fairness(found, "24h") is None
    assert not any(name == "ticketgate_routing_fairness" for name, _ in found)


# --- through tickets.assign ---

ALWAYS = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def test_config():
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = {
        "policy": {"offer_channels": []},
        "calendars": {"always": {"timezone": "UTC", "hours": ALWAYS}},
        "agents": [{"id": "alice", "capacity": {"email": 2}, "status": "online",
                    "calendar": "always"},
                   {"id": "bob", "capacity": {"email": 1}, "status": "online",
                    "calendar": "always"}]}
    return parse_config(data)


def test_tickets_routed_by_the_workers_show_in_the_metrics(client, runtime):
    config = runtime.config.workspace("demo")
    with runtime.sessions.begin() as session:
        workspace_id = repo.workspace_row(session, "demo").id
        seed_agents(session, workspace_id, config.routing)
        ids = [add_ticket(session, routing_state="new").id for _ in range(4)]
    decisions = assign.route_all(runtime.sessions, config, ids)
    count_decisions(runtime.redis, decisions)
    found = samples(client.get("/metrics"))
    assert found[("ticketgate_routing_decisions_total", (("kind", "assign"),))] == 3
    assert found[("ticketgate_routing_waiting", (("priority", "medium"), DEMO))] == 1
    assert fairness(found, "1h") == pytest.approx(1.0)  # alice 2 of 2, bob 1 of 1

    with runtime.sessions.begin() as session:  # alice resolves one: the waiting ticket is hers
        alice = session.scalar(select(Agent.id).where(Agent.key == "alice"))
        ticket_id = session.scalar(select(Assignment.ticket_id).where(
            Assignment.agent_id == alice).order_by(Assignment.id).limit(1))
        agent = assign.release(session, config, session.get(Ticket, ticket_id), "resolved")
    with runtime.sessions.begin() as session:
        count_decisions(runtime.redis, assign.refill(session, config, workspace_id, agent))
    found = samples(client.get("/metrics"))
    assert found[("ticketgate_routing_wait_seconds_count", (("kind", "assign"),))] == 1
    assert found[("ticketgate_routing_triggers_total", (("trigger", "capacity"),))] == 1
    assert found[("ticketgate_routing_waiting", (("priority", "medium"), DEMO))] == 0
    assert found[("ticketgate_routing_agent_load",
                  (("agent", "alice"), ("channel", "email"), DEMO))] == 2
    assert fairness(found, "1h") == pytest.approx(jain([3 / 2, 1 / 1]))


# --- failures ---

def test_metrics_answer_200_without_routing_state_when_the_store_is_down(
        redis_url, redis_conn, tmp_path, test_config, caplog):
    rt = make_runtime(CLOSED_POSTGRES, redis_url, tmp_path, test_config)
    count_decisions(rt.redis, [decision("wait", trigger="arrival")])
    response = create_app(rt).test_client().get("/metrics")
    assert response.status_code == 200
    names = families(response)
    assert "ticketgate_routing_decisions_total" in names
    assert not names & {"ticketgate_routing_agent_load", "ticketgate_routing_waiting",
                        "ticketgate_routing_parked", "ticketgate_sla_breached_open",
                        "ticketgate_routing_fairness"}
    assert "routing metrics skipped: store error" in caplog.text


def test_metrics_show_routing_state_without_counters_when_redis_is_down(
        sqlite_url, redis_conn, tmp_path, test_config):
    rt = make_runtime(sqlite_url, CLOSED_REDIS, tmp_path, test_config)
    response = create_app(rt).test_client().get("/metrics")
    assert response.status_code == 200
    names = families(response)
    assert "ticketgate_routing_waiting" in names
    assert "ticketgate_routing_decisions_total" not in names
