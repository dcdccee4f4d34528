"""Helpers of the batch-routing tests: a workspace of agents twinned for comparison, tickets to
route, one-at-a-time routing, and the store's routing invariants."""
from __future__ import annotations

import copy
from collections import Counter

from sqlalchemy import func, select

from config.workspaces import parse_config
from store import repo
from store.models import Agent, Assignment, Ticket
from tests.conftest import TEST_CONFIG
from tests.gateway.apifactory import add_customer, add_ticket
from tests.routing_store.conftest import routing_block
from tickets import assign, batch_claim
from tickets.agents import seed_agents


AGENTS = [
    {"id": "alice", "skills": {"billing": 3, "lang:cs": 4}, "capacity": {"email": 2, "chat": 1},
     "status": "online"},
    {"id": "bob", "skills": {"billing": 1}, "capacity": {"email": 1}, "status": "online"},
    {"id": "carol", "skills": {"billing": 2, "lang:cs": 2}, "capacity": {"email": 2, "chat": 1},
     "total": 4, "status": "online"},
    {"id": "dave", "skills": {"billing": 5}, "capacity": {"email": 3}, "status": "away"},
]
# (channel, required skills, preferred skills, priority): more work than room, so the order
# of the decisions decides who gets what and some tickets wait.
TICKETS = [("email", {"billing": 2}, {"lang:cs": 1.0}, "medium"),
           ("email", {}, {}, "low"),
           ("chat", {"billing": 1}, {}, "urgent"),
           ("email", {"billing": 1}, {"lang:cs": 0.5}, "high"),
           ("chat", {"lang:cs": 2}, {}, "medium"),
           ("email", {"billing": 3}, {}, "medium"),
           ("email", {}, {"lang:cs": 1.0}, "medium"),
           ("email", {"billing": 2}, {}, "urgent"),
           ("chat", {}, {}, "low"),
           ("email", {}, {}, "medium")]


def twin_config(agent_list=AGENTS, **policy):
    """demo and acme with the same routing block: one routed one ticket at a time, the other
    in one batch."""
    data = copy.deepcopy(TEST_CONFIG)
    for workspace in data["workspaces"][:2]:
        workspace["routing"] = routing_block(agents=agent_list, **policy)
    return parse_config(data)


CUSTOMER_OF = {0: 0, 3: 0, 6: 0, 8: 0, 1: 1, 9: 1}  # ticket place -> customer: their agent
# is preferred for their later tickets, those of the batch included


def add_tickets(rt, slug: str, tickets=TICKETS, customer_of=CUSTOMER_OF) -> list[int]:
    config = rt.config.workspace(slug)
    with rt.sessions.begin() as session:
        seed_agents(session, repo.workspace_row(session, slug).id, config.routing)
        customers = [add_customer(session, slug, f"C{n}", f"c{n}@{slug}.test").id
                     for n in range(2)] if customer_of else []
        return [add_ticket(session, slug, routing_state="new", channel=channel,
                           skills=required, preferred=preferred, priority=priority,
                           customer_id=customers[customer_of[n]] if n in customer_of else None).id
                for n, (channel, required, preferred, priority) in enumerate(tickets)]


def one_at_a_time(rt, slug: str, ticket_ids: list[int]) -> list:
    config, decisions = rt.config.workspace(slug), []
    for ticket_id in ticket_ids:
        with rt.sessions.begin() as session:
            decisions.append(assign.route(session, config, ticket_id))
    return decisions


def essence(decision) -> tuple:
    """What a decision says, without the times it was made at."""
    why = decision.explanation
    return (decision.kind, decision.agent, why["eligible"], why["requirement"],
            why.get("chosen", {}).get("agent"), why.get("chosen", {}).get("load_ratio"),
            why.get("claims_refused"), why["near_misses"])


def store_state(rt, slug: str) -> tuple:
    """Per ticket (in id order) its routing state and assignee, and each agent's load."""
    with rt.read_sessions() as session:
        ws = repo.workspace_row(session, slug).id
        tickets = session.execute(select(Ticket.routing_state, Ticket.assignee)
                                  .where(Ticket.workspace_id == ws).order_by(Ticket.id)).all()
        loads = session.execute(select(Agent.key, Agent.load, Agent.used)
                                .where(Agent.workspace_id == ws).order_by(Agent.key)).all()
    return [tuple(t) for t in tickets], [(k, {c: n for c, n in load.items() if n}, used)
                                         for k, load, used in loads]


def check_invariants(rt) -> None:
    """No ticket held twice, every agent's load its open assignments, none over its limits,
    every assignment carries its ticket's customer."""
    with rt.read_sessions() as session:
        assert session.execute(select(Assignment.id).join(
            Ticket, Ticket.id == Assignment.ticket_id).where(
            Assignment.customer_id.is_distinct_from(Ticket.customer_id))).all() == []
        held = session.execute(select(Assignment.ticket_id, Assignment.agent_id,
                                      Assignment.channel).where(Assignment.ended_at.is_(None))).all()
        agents = session.scalars(select(Agent)).all()
        assigned = session.scalar(select(func.count()).where(Ticket.routing_state == "assigned"))
    assert len({t for t, _, _ in held}) == len(held) == assigned
    for agent in agents:
        load = Counter(c for _, a, c in held if a == agent.id)
        assert {c: n for c, n in agent.load.items() if n} == dict(load)
        assert all(n <= agent.capacity.get(c, 0) for c, n in load.items())


def claims_one_at_a_time(monkeypatch) -> None:
    """The batch's first pass never stands, as when another process changed an agent: every
    ticket is decided again, each claim locking its agent in turn."""
    settle = batch_claim.BatchClaim.settle

    def void(claim) -> bool:
        settle(claim)
        for held in claim.held.values():
            held.reset()
        claim.assignments = []
        return False
    monkeypatch.setattr(batch_claim.BatchClaim, "settle", void)
