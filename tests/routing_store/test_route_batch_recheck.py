"""A batch routed in one transaction (``tickets.route_batch``) leaves nothing behind when it rolls
back, rechecks its waits only when an agent changed, counts open assignments rather than a load
that drifted, and returns the decisions committed before the database failed."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from store import repo
from store.models import Agent, Assignment, AuditEntry, Ticket, utcnow
from tests.routing_store.batch_helpers import (
    TICKETS, add_tickets, check_invariants, store_state, twin_config)
from tickets import agent_cache, assign, route_batch


@pytest.mark.parametrize("test_config", [twin_config()])
def test_a_batch_rolled_back_leaves_no_trace(rt_client):
    rt, _client = rt_client
    config = rt.config.workspace("demo")
    ticket_ids = add_tickets(rt, "demo")
    before = store_state(rt, "demo")
    session = rt.sessions()
    with session.begin():
        outcome = route_batch.decide(session, config, ticket_ids, "new", assign._arrival)
        assert [d.kind for d in outcome.decisions].count("assign") >= 5
        session.rollback()
    session.close()
    assert store_state(rt, "demo") == before
    with rt.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Assignment)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    # the cached router took the claims that rolled back: it must not believe them
    again = assign.route_all(rt.sessions, config, ticket_ids)
    assert [d.kind for d in again] == [d.kind for d in outcome.decisions]
    assert [d.agent for d in again] == [d.agent for d in outcome.decisions]
    check_invariants(rt)


@pytest.mark.parametrize("test_config", [twin_config()])
def test_after_a_batch_nothing_changed_needs_no_recheck(rt_client):
    """The agents the batch claimed are, once it committed, what the cached router holds:
    the feed finds nothing changed, so the waits are not rechecked."""
    rt, _client = rt_client
    config = rt.config.workspace("demo")
    decisions = assign.route_all(rt.sessions, config, add_tickets(rt, "demo"))
    assert {"assign", "wait"} <= {d.kind for d in decisions}
    with rt.sessions.begin() as session:
        assert agent_cache.unchanged_since_last_read(session, config.routing, utcnow())


@pytest.mark.parametrize("test_config", [twin_config()])
def test_a_wait_is_rechecked_when_an_agent_changed_meanwhile(rt_client, monkeypatch):
    """Room made by another transaction after the batch read the agents (its refill ran
    before the batch's waits were visible) goes to the waiting tickets at the recheck."""
    rt, _client = rt_client
    config = rt.config.workspace("acme")
    recheck = assign._rechecked

    def online_meanwhile(sessions, config, ticket_ids, _after=None):
        dave_online(sessions)  # elsewhere, after the batch read the agents: no refill saw these
        return recheck(sessions, config, ticket_ids)  # the read after the commit made again
    monkeypatch.setattr(assign, "_rechecked", online_meanwhile)
    decisions = assign.route_all(rt.sessions, config, add_tickets(rt, "acme"))
    rechecked = [d for d in decisions if d.explanation["trigger"] == "retry"]
    assert len(rechecked) >= 2 and {d.agent for d in rechecked} == {"dave"}
    with rt.read_sessions() as session:  # what still waits, dave (email only) cannot take
        assert set(session.scalars(select(Ticket.channel).where(
            Ticket.routing_state == "waiting"))) == {"chat"}
    check_invariants(rt)


def dave_online(sessions) -> None:
    """dave comes online in acme, in a transaction of its own."""
    with sessions.begin() as other:
        ws = repo.workspace_row(other, "acme").id
        other.scalar(select(Agent).where(Agent.workspace_id == ws,
                                         Agent.key == "dave")).status = "online"


@pytest.mark.parametrize("test_config", [twin_config()])
def test_room_made_before_the_commit_is_seen_by_the_read_in_the_commits_round_trip(
        rt_client, monkeypatch):
    """PostgreSQL reads the agent feed for the recheck in the round trip of the batch's
    commit (``tickets.route_pg``): room committed elsewhere while the batch decided, before
    its commit, goes to the waiting tickets, with no read of its own afterwards."""
    rt, _client = rt_client
    if not rt.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite reads after the commit in a transaction of its own")
    config = rt.config.workspace("acme")
    write = route_batch.write

    def online_first(session, claim, done, commit=False, then_read=None):
        dave_online(rt.sessions)  # dave is not locked by the batch: he was away
        return write(session, claim, done, commit, then_read)

    def no_second_read(*_args):
        raise AssertionError("the read after the commit was made again")
    monkeypatch.setattr(route_batch, "write", online_first)
    monkeypatch.setattr(agent_cache, "unchanged_since_last_read", no_second_read)
    decisions = assign.route_all(rt.sessions, config, add_tickets(rt, "acme"))
    rechecked = [d for d in decisions if d.explanation["trigger"] == "retry"]
    assert len(rechecked) >= 2 and {d.agent for d in rechecked} == {"dave"}
    check_invariants(rt)


ALONE = [{"id": "alice", "capacity": {"email": 2}, "status": "online"}]


@pytest.mark.parametrize("test_config", [twin_config(ALONE)])
def test_the_claim_counts_open_assignments_not_a_load_that_drifted(rt_client):
    """A load column that disagrees with the open assignments (written by hand, say) does
    not let the batch put alice over capacity: her assignments are counted again."""
    rt, _client = rt_client
    config = rt.config.workspace("demo")
    full = assign.route_all(rt.sessions, config, add_tickets(rt, "demo", TICKETS[1:3], {}))
    assert [d.agent for d in full] == ["alice", None]  # no chat capacity: the chat one waits
    with rt.sessions.begin() as session:
        alice = session.scalar(select(Agent).where(Agent.key == "alice",
                                                   Agent.workspace_id == repo.workspace_row(
                                                       session, "demo").id))
        alice.load, alice.used = {}, 0.0
    more = assign.route_all(rt.sessions, config, add_tickets(rt, "demo", TICKETS[9:] * 2, {}))
    assert [d.kind for d in more].count("assign") == 1  # one more fitted, not two
    assert "alice" in more[1].explanation["claims_refused"]
    with rt.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.ended_at.is_(None))) == 2


@pytest.mark.parametrize("test_config", [twin_config()])
def test_decisions_committed_before_the_database_failed_are_returned(rt_client, monkeypatch):
    """The caller publishes what committed; what did not stays to the sweep."""
    rt, _client = rt_client
    config = rt.config.workspace("demo")

    def database_down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    monkeypatch.setattr(assign, "_rechecked", database_down)
    decisions = assign.route_all(rt.sessions, config, add_tickets(rt, "demo"))
    assert len(decisions) == len(TICKETS) and "wait" in {d.kind for d in decisions}
    monkeypatch.setattr(assign, "_batches", database_down)
    with pytest.raises(OperationalError):  # nothing committed: the caller hears of it
        assign.route_all(rt.sessions, config, add_tickets(rt, "demo", TICKETS[:1], {}))
