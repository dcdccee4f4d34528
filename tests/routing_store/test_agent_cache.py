"""The in-process agent cache (``tickets.agent_cache``) never routes on a stale view: a change
another process commits is seen by the next decision, a claim rolled back with its transaction
leaves no trace, and business hours are followed as time passes."""
import copy
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from config.workspaces import parse_config

from store import repo
from store.db import make_engine, session_factory
from store.models import Agent
from tests.gateway.apifactory import add_ticket
from tests.conftest import TEST_CONFIG
from tests.routing_store.conftest import make_config, routing_block
from tests.routing_store.helpers import holders, routed_ticket, ticket
from tickets import assign
from tickets.agents import seed_agents

BOB = {"id": "bob", "capacity": {"email": 1}, "status": "online"}
WEEKDAYS = {"timezone": "UTC", "hours": {d: ["09:00-17:00"]
                                        for d in ("mon", "tue", "wed", "thu", "fri")}}


def other_process(rt):
    """Sessions on their own engine: another process, with a cache of its own."""
    return session_factory(make_engine(rt.settings.database_url))


def new_ticket(rt) -> int:
    with rt.sessions.begin() as session:
        return add_ticket(session, "demo", routing_state="new").id


@pytest.mark.parametrize("test_config", [make_config(agents=[BOB])])
def test_a_change_committed_elsewhere_is_seen_by_the_next_decision(rt_client):
    rt, _client = rt_client
    config = rt.config.workspace("demo")
    first = routed_ticket(rt)
    waiting = routed_ticket(rt)
    assert ticket(rt, waiting).routing_state == "waiting"  # bob is full: the cache knows it
    with other_process(rt).begin() as session:  # bob's capacity raised elsewhere
        bob = session.scalar(select(Agent).where(Agent.key == "bob"))
        bob.capacity = {"email": 3}
    with rt.sessions.begin() as session:
        decision = assign.route(session, config, new_ticket(rt))
    assert (decision.kind, decision.agent) == ("assign", "bob")
    assert holders(rt)[first] == "bob"


def test_a_claim_rolled_back_leaves_the_agent_with_its_room(rt_client):
    rt, _client = rt_client
    config = rt.config.workspace("demo")
    routed_ticket(rt)  # seeds the agents, warms the cache
    ticket_id = new_ticket(rt)
    session = rt.sessions()
    with session.begin():
        decision = assign.route(session, config, ticket_id)
        assert decision.kind == "assign"
        session.rollback()
    session.close()
    with rt.sessions.begin() as session:
        again = assign.route(session, config, ticket_id)
    assert (again.kind, again.agent) == ("assign", decision.agent)


def weekday_config():
    data = copy.deepcopy(TEST_CONFIG)
    block = routing_block(agents=[{**BOB, "calendar": "weekdays"}])
    block["calendars"]["weekdays"] = WEEKDAYS
    data["workspaces"][0]["routing"] = block
    return parse_config(data)


@pytest.mark.parametrize("test_config", [weekday_config()])
def test_business_hours_are_followed_between_decisions(rt_client):
    rt, _client = rt_client
    config = rt.config.workspace("demo")
    with rt.sessions.begin() as session:
        seed_agents(session, repo.workspace_row(session, "demo").id, config.routing)
    saturday = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
    monday = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    with rt.sessions.begin() as session:
        assert assign.route(session, config, new_ticket(rt), saturday).kind == "wait"
    with rt.sessions.begin() as session:
        decision = assign.route(session, config, new_ticket(rt), monday)
    assert (decision.kind, decision.agent) == ("assign", "bob")
