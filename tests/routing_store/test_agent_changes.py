"""Routing decisions see every agent change committed before they began, wherever it was made
(another process, the web process, a transaction still open when the decision read the feed),
and nothing a rolled-back transaction or a crashed process wrote."""
import multiprocessing
import os

import pytest
from sqlalchemy import delete, event, select

from store import repo
from store.db import make_engine, session_factory
from store.models import Agent, Assignment, utcnow
from tests.gateway.apifactory import add_ticket
from tests.routing_store.helpers import holders, put_agent, routed_ticket, ticket
from tickets import agent_cache, assign

ALICE_AWAY = {"name": "Alice", "skills": {"billing": 3}, "capacity": {"email": 2, "chat": 1},
              "status": "away", "calendar": "office"}


def other_process(rt):
    """Sessions on an engine of their own: another process, with a cache of its own."""
    return session_factory(make_engine(rt.settings.database_url))


def new_ticket(rt, channel: str = "email") -> int:
    with rt.sessions.begin() as session:
        return add_ticket(session, "demo", routing_state="new", channel=channel).id


def route(rt, ticket_id: int, sessions=None):
    with (sessions or rt.sessions).begin() as session:
        return assign.route(session, rt.config.workspace("demo"), ticket_id)


def change_agent(session, key: str, **values) -> None:
    agent = session.scalar(select(Agent).where(Agent.key == key))
    for name, value in values.items():
        setattr(agent, name, value)
    agent.updated_at = utcnow()
    session.flush()


def bob_full(rt, client) -> None:
    """Alice away; Bob (one email ticket at most) holds one: the next ticket waits."""
    assert put_agent(client, "alice", ALICE_AWAY).status_code == 200
    routed_ticket(rt)
    assert route(rt, new_ticket(rt)).kind == "wait"  # the cache knows Bob is full


def postgresql_only(rt) -> None:
    if rt.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite writers take turns: nothing commits during a decision")


def test_a_status_change_made_elsewhere_is_seen_by_the_next_decision(rt_client):
    rt, client = rt_client
    bob_full(rt, client)
    with other_process(rt).begin() as session:
        change_agent(session, "alice", status="online")
    decision = route(rt, new_ticket(rt))
    assert (decision.kind, decision.agent) == ("assign", "alice")


def test_an_agent_added_elsewhere_is_routed_to_at_once(rt_client):
    rt, client = rt_client
    bob_full(rt, client)
    with other_process(rt).begin() as session:
        workspace_id = repo.workspace_row(session, "demo").id
        session.add(Agent(workspace_id=workspace_id, key="carol", status="online",
                          capacity={"email": 1}, load={}, used=0.0))
    decision = route(rt, new_ticket(rt))
    assert (decision.kind, decision.agent) == ("assign", "carol")


def test_a_change_committed_during_a_decision_is_seen_by_the_next(rt_client):
    rt, client = rt_client
    postgresql_only(rt)
    bob_full(rt, client)
    engine = rt.sessions().get_bind()
    elsewhere, done = other_process(rt), []

    def commit_elsewhere(_conn, _cursor, statement, *_args):
        if "horizon" in statement and not done:  # the decision has just read the feed
            done.append(True)
            with elsewhere.begin() as session:
                change_agent(session, "bob", capacity={"email": 3})
    event.listen(engine, "after_cursor_execute", commit_elsewhere)
    try:
        assert route(rt, new_ticket(rt)).kind == "wait"  # decided on the view before
    finally:
        event.remove(engine, "after_cursor_execute", commit_elsewhere)
    assert done
    decision = route(rt, new_ticket(rt))
    assert (decision.kind, decision.agent) == ("assign", "bob")


def test_an_older_transaction_committing_last_is_not_missed(rt_client):
    """The older writer (a lower transaction id) is still open when a younger one commits
    and a decision reads the feed; it commits afterwards."""
    rt, client = rt_client
    postgresql_only(rt)
    bob_full(rt, client)
    elsewhere = other_process(rt)
    older = elsewhere()
    older.begin()
    change_agent(older, "bob", capacity={"email": 3})
    with elsewhere.begin() as younger:
        change_agent(younger, "alice", name="Alice B.")
    assert route(rt, new_ticket(rt)).kind == "wait"  # Bob's change is not committed yet
    older.commit()
    older.close()
    decision = route(rt, new_ticket(rt))
    assert (decision.kind, decision.agent) == ("assign", "bob")


def away_in_a_rolled_back_decision(rt) -> None:
    """A transaction sets Bob away, routes a ticket (seeing its own write) and rolls back."""
    ticket_id = new_ticket(rt)
    session = rt.sessions()
    with session.begin():
        change_agent(session, "bob", status="away")
        assert assign.route(session, rt.config.workspace("demo"), ticket_id).kind == "wait"
        session.rollback()
    session.close()


def test_an_agent_write_rolled_back_after_a_decision_leaves_no_trace(rt_client):
    rt, client = rt_client
    assert put_agent(client, "alice", ALICE_AWAY).status_code == 200
    assert put_agent(client, "bob", {"capacity": {"email": 2}, "status": "online",
                                     "skills": {"billing": 1}}).status_code == 200
    routed_ticket(rt)  # Bob holds one of two
    assert route(rt, new_ticket(rt, "form")).kind == "wait"  # nobody serves it; the cache
    away_in_a_rolled_back_decision(rt)  # has read the store since Bob's claim
    decision = route(rt, new_ticket(rt))
    assert (decision.kind, decision.agent) == ("assign", "bob")


def test_a_change_made_after_a_rolled_back_agent_write_is_seen(rt_client):
    """On SQLite the rolled-back write's change numbers are handed out again to the next
    writer: the decision that read its own write must not have moved its cursor past them."""
    rt, client = rt_client
    bob_full(rt, client)
    away_in_a_rolled_back_decision(rt)
    with other_process(rt).begin() as other:
        change_agent(other, "alice", status="online")
    decision = route(rt, new_ticket(rt))
    assert (decision.kind, decision.agent) == ("assign", "alice")


def test_an_agent_deleted_behind_the_cache_is_forgotten(rt_client, monkeypatch):
    rt, _client = rt_client
    routed_ticket(rt)  # seeds the agents, warms the cache
    monkeypatch.setattr(agent_cache, "DELETE_CHECK_S", 0.0)
    with other_process(rt).begin() as session:
        alice = session.scalar(select(Agent).where(Agent.key == "alice"))
        session.execute(delete(Assignment).where(Assignment.agent_id == alice.id))
        session.delete(alice)
    config = rt.config.workspace("demo")
    with rt.sessions.begin() as session:
        workspace_id = repo.workspace_row(session, "demo").id
        with agent_cache.cached_router(session, config.routing, workspace_id, utcnow(),
                                       lambda *_: False) as router:
            assert set(router.index.agents) == {"bob"}


def crash_mid_decision(url: str, ticket_id: int, config_data) -> None:
    """Claim the ticket for an agent, then die before the commit (a process killed)."""
    config = config_data.workspace("demo")
    with session_factory(make_engine(url)).begin() as session:
        assert assign.route(session, config, ticket_id).kind == "assign"
        os._exit(9)


def test_a_process_killed_mid_decision_leaves_nothing_and_a_restart_routes(rt_client):
    rt, client = rt_client
    assert put_agent(client, "alice", ALICE_AWAY).status_code == 200
    routed_ticket(rt)  # Bob is full; this process's cache knows it
    with rt.sessions.begin() as session:  # Bob gets room for one more, committed
        change_agent(session, "bob", capacity={"email": 2})
    ticket_id = new_ticket(rt)
    dead = multiprocessing.get_context("spawn").Process(
        target=crash_mid_decision, args=(rt.settings.database_url, ticket_id, rt.config))
    dead.start()
    dead.join(60)
    assert dead.exitcode == 9
    assert ticket_id not in {t.id for t in [ticket(rt, n) for n in holders(rt)]}
    restarted = other_process(rt)  # a new process: its cache starts empty
    decision = route(rt, ticket_id, restarted)
    assert (decision.kind, decision.agent) == ("assign", "bob")
    assert route(rt, new_ticket(rt)).kind == "wait"  # this process saw the claim commit
