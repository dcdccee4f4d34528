"""The customer's previous agent (``route_rows.PREVIOUS_AGENT``) is the agent of the customer's
latest assignment, whatever ticket of theirs it was on, read through one index entry
(issue 12); an agent's open assignments are read through the partial index of open rows."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text

from store import repo
from store.models import Agent, Assignment, Ticket
from tests.gateway.apifactory import BASE_TIME, add_customer, add_ticket
from tests.routing_store.batch_helpers import twin_config
from tickets import batch_claim, route_rows, route_store
from tickets.agents import seed_agents

EARLIER = 1500  # earlier tickets of the customer, each assigned and ended


def history(rt) -> dict:
    """A customer with EARLIER ended assignments (to bob), its oldest ticket re-assigned to
    carol after all of them, a later assignment of another customer (to alice), and two new
    tickets of the customer. Returns the ids."""
    with rt.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo").id
        seed_agents(session, ws, rt.config.workspace("demo").routing)
        agent = {key: session.scalar(select(Agent.id).where(Agent.workspace_id == ws,
                                                            Agent.key == key))
                 for key in ("alice", "bob", "carol")}
        customer, other = (add_customer(session, "demo", name, f"{name}@demo.test").id
                           for name in ("big", "other"))
        first = add_ticket(session, customer_id=customer, status="resolved")
        rows = [{"workspace_id": ws, "number": 100_000 + n, "subject": "s", "channel": "email",
                 "customer_id": customer, "status": "resolved",
                 "created_at": BASE_TIME + timedelta(minutes=n)} for n in range(1, EARLIER)]
        ids = [first.id] + list(session.scalars(
            insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True), rows))
        stray = add_ticket(session, customer_id=other, status="resolved")
        ended = [{"workspace_id": ws, "ticket_id": t, "customer_id": customer,
                  "agent_id": agent["bob"], "channel": "email", "units": 1.0,
                  "started_at": BASE_TIME + timedelta(minutes=n),
                  "accepted_at": BASE_TIME + timedelta(minutes=n),
                  "ended_at": BASE_TIME + timedelta(minutes=n, seconds=30),
                  "end_reason": "resolved"} for n, t in enumerate(ids)]
        late = BASE_TIME + timedelta(minutes=EARLIER + 10)
        ended += [{**ended[0], "agent_id": agent["carol"], "started_at": late,  # re-assigned
                   "accepted_at": late, "ended_at": late + timedelta(seconds=30)},
                  {**ended[0], "ticket_id": stray.id, "customer_id": other,
                   "agent_id": agent["alice"], "started_at": late + timedelta(minutes=1),
                   "accepted_at": late, "ended_at": late + timedelta(minutes=2)}]
        session.execute(insert(Assignment), ended)
        new = [add_ticket(session, customer_id=customer, routing_state="new").id
               for _ in range(2)]
        lonely = add_ticket(session, routing_state="new").id  # no customer: no previous agent
        if session.bind.dialect.name == "postgresql":
            session.execute(text("ANALYZE assignments"))
            session.execute(text("ANALYZE tickets"))
    return {"new": new, "lonely": lonely, "agents": agent, "earlier": ids, "workspace": ws}


@pytest.mark.parametrize("test_config", [twin_config()])
def test_the_previous_agent_is_the_one_of_the_customers_latest_assignment(rt_client):
    rt, _client = rt_client
    made = history(rt)
    with rt.sessions.begin() as session:
        rows = route_rows.lock_many(session, made["new"] + [made["lonely"]])
        assert [rows[t].previous for t in made["new"]] == ["carol", "carol"]
        assert rows[made["lonely"]].previous is None
        row, previous = route_rows.lock_for_routing(session, made["new"][0])
        assert previous == "carol" and row.customer_id is not None


def explain(session, statement, **params) -> str:
    compiled = statement.params(**params).compile(
        dialect=session.bind.dialect, compile_kwargs={"literal_binds": True})
    return "\n".join(session.execute(text(f"EXPLAIN {compiled}")).scalars())


@pytest.mark.parametrize("test_config", [twin_config()])
def test_postgresql_reads_the_history_through_the_new_indexes(rt_client):
    rt, _client = rt_client
    if not rt.settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's plans")
    made = history(rt)
    with rt.sessions.begin() as session:  # alice holds 500 tickets: open rows of other agents
        session.execute(insert(Assignment), [
            {"workspace_id": made["workspace"], "ticket_id": t, "customer_id": None,
             "agent_id": made["agents"]["alice"], "channel": "email", "units": 1.0,
             "started_at": BASE_TIME - timedelta(days=1)} for t in made["earlier"][:500]])
        session.execute(text("ANALYZE assignments"))
    with rt.sessions.begin() as session:
        plan = explain(session, route_rows.LOCK_MANY, tickets=made["new"])
        assert "ix_assignments_customer" in plan, plan
        plan = explain(session, route_rows.LOCK_FOR_ROUTING, ticket=made["new"][0])
        assert "ix_assignments_customer" in plan, plan
        bob = made["agents"]["bob"]  # EARLIER ended assignments, none open
        plan = explain(session, route_store.OPEN_LOAD, agent=bob)
        assert "ix_assignments_open_agent" in plan, plan
        plan = explain(session, batch_claim.lock_agents("postgresql"),
                       workspace=made["workspace"], keys=["bob", "carol"])
        assert "ix_assignments_open_agent" in plan, plan
