"""The one statement of a routing batch's writes on PostgreSQL (``tickets.route_pg``) writes what
the statements per kind write (``route_rows.write_many``, ``batch_claim.BatchClaim.write``),
column for column; its error is SQLAlchemy's; the commit in its round trip ends the
transaction; the feed read in the round trip of the tickets' lock decides as its own read."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from store import repo
from store.models import Agent, Assignment, AuditEntry, Ticket
from tests.gateway.apifactory import add_ticket
from tests.routing_store.batch_helpers import TICKETS, add_tickets, check_invariants, \
    essence, store_state, twin_config
from tickets import agent_cache, assign, batch_claim, route_pg, route_rows
from tickets.agent_feed import Cursor
from tickets.agents import seed_agents

AT = datetime(2026, 12, 8, 1, 2, 3, 456789, tzinfo=timezone.utc)
REASON = {"rules": ["vip"], "decision": "wait", "agent": None, "near_misses": [
    {"agent": "bob", "reasons": [{"code": "total_full", "used": 12, "total": 12.0}]}],
    "weights": {"z": 0.1, "a": 1e-07, "m": 3}}  # keys out of order, floats of every kind


def ticket_values(assignee) -> dict:
    return {"assignee": assignee, "priority": "high", "queued_at": AT,
            "routing_next_at": AT + timedelta(hours=1), "routing_reason": REASON,
            "routing_state": "waiting" if assignee is None else "assigned", "routing_step": 2,
            "routing_step_at": AT - timedelta(minutes=5)}


def written(session, ticket_id: int) -> tuple:
    """The ticket's routing columns as stored (the reason as its text), its audit rows and
    its open assignment."""
    columns = session.execute(text(
        "SELECT assignee, priority, queued_at, routing_next_at, routing_reason::text, "
        "routing_state, routing_step, routing_step_at FROM tickets WHERE id = :id"),
        {"id": ticket_id}).one()
    audits = session.execute(select(AuditEntry.kind, AuditEntry.old, AuditEntry.new,
                                    AuditEntry.actor, AuditEntry.at)
                             .where(AuditEntry.ticket_id == ticket_id)).all()
    held = session.execute(select(Assignment.channel, Assignment.units, Assignment.started_at,
                                  Assignment.accepted_at, Assignment.end_reason,
                                  Assignment.offer_expires_at, Assignment.customer_id)
                           .where(Assignment.ticket_id == ticket_id)).all()
    return tuple(columns), audits, held


@pytest.fixture
def pg_rt(rt_client):
    rt, _client = rt_client
    if not rt.settings.database_url.startswith("postgresql"):
        pytest.skip("the one-statement writes are PostgreSQL's")
    return rt


@pytest.mark.parametrize("test_config", [twin_config()])
def test_one_statement_writes_what_the_statements_per_kind_write(pg_rt):
    rt = pg_rt
    with rt.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo").id
        seed_agents(session, ws, rt.config.workspace("demo").routing)
        first, second = (add_ticket(session, "demo", routing_state="new").id for _ in range(2))
        alice, bob = (session.scalar(select(Agent.id).where(Agent.workspace_id == ws,
                                                           Agent.key == key))
                      for key in ("alice", "bob"))

    def rows(ticket_id: int, agent_id: int, load: dict) -> dict:
        return {"assignments": [{
                    "workspace_id": ws, "ticket_id": ticket_id, "customer_id": 4242,
                    "agent_id": agent_id, "channel": "email", "units": 1.5, "started_at": AT, "accepted_at": AT,
                    "end_reason": "", "offer_expires_at": None}],
                "agents": [{"id": agent_id, "load": load, "used": 2.5,
                            "last_assigned_at": AT, "version": 2 ** 62 - 1}],
                "audits": [{"ticket_id": ticket_id, "kind": "assignee", "old": "",
                            "new": "alice", "actor": "router", "at": AT}],
                "tickets": [{"id": ticket_id, **ticket_values("alice")}]}
    with rt.sessions.begin() as session:
        route_pg.write(session.connection(), **rows(first, alice, {"email": 2, "chat": 0}))
        xid = session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar()
    with rt.sessions.begin() as session:
        conn, by_kind = session.connection(), rows(second, bob, {"email": 2, "chat": 0})
        conn.execute(route_rows.AUDIT, by_kind["audits"])
        route_rows.set_columns(session, second, ticket_values("alice"))
        conn.execute(batch_claim.rs.INSERT_ASSIGNMENT, by_kind["assignments"])
        conn.execute(batch_claim.UPDATE_AGENT, [{
            "agent": bob, "new_load": {"email": 2, "chat": 0}, "new_used": 2.5,
            "assigned_at": AT, "new_version": 2 ** 62 - 1}])
    with rt.read_sessions() as session:
        assert written(session, first) == written(session, second)
        assert written(session, first)[2][0].customer_id == 4242
        assert written(session, first)[0][4] == session.execute(text(
            "SELECT routing_reason::text FROM tickets WHERE id = :id"), {"id": second}).scalar()
        agents = {row.id: row for row in session.execute(select(
            Agent.id, Agent.load, Agent.used, Agent.last_assigned_at, Agent.version,
            Agent.change_seq).where(Agent.id.in_([alice, bob])))}
    assert agents[alice][1:5] == agents[bob][1:5] == ({"email": 2, "chat": 0}, 2.5, AT,
                                                      2 ** 62 - 1)
    assert agents[alice].change_seq == xid  # the feed's stamp: the writing transaction


def _new_ticket_and_agents(rt) -> tuple[int, int]:
    """The demo workspace's id and a new ticket's, with the workspace's agents seeded."""
    with rt.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo").id
        ticket_id = add_ticket(session, "demo", routing_state="new").id
        seed_agents(session, ws, rt.config.workspace("demo").routing)
    return ws, ticket_id


@pytest.mark.parametrize("test_config", [twin_config()])
def test_an_error_in_the_pipeline_is_sqlalchemys_and_nothing_commits(pg_rt):
    rt = pg_rt
    ws, ticket_id = _new_ticket_and_agents(rt)
    with rt.read_sessions() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.workspace_id == ws))
    held = {"workspace_id": ws, "ticket_id": ticket_id, "agent_id": agent_id,
            "channel": "email", "units": 1, "started_at": AT, "accepted_at": AT,
            "end_reason": "", "offer_expires_at": None}
    with pytest.raises(IntegrityError):  # two open assignments of one ticket
        with rt.sessions.begin() as session:
            route_pg.write_commit_read(session.connection(), ws, (Cursor(), ()),
                                       assignments=[held, held],
                                       tickets=[{"id": ticket_id, **ticket_values("x")}])
    with rt.read_sessions() as session:
        assert session.get(Ticket, ticket_id).routing_state == "new"
        assert session.scalar(select(Assignment.id)) is None


@pytest.mark.parametrize("test_config", [twin_config()])
def test_the_commit_in_the_round_trip_ends_the_transaction_and_the_read_follows_it(pg_rt):
    rt = pg_rt
    ws, ticket_id = _new_ticket_and_agents(rt)
    with rt.sessions.begin() as session:
        conn = session.connection()
        session.execute(text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"),
                        {"id": ticket_id})
        own = session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar()
        changes = route_pg.write_commit_read(conn, ws, (Cursor(), {"alice"}), tickets=[
            {"id": ticket_id, **ticket_values(None)}])
        raw = conn.connection.driver_connection
        assert raw.info.transaction_status.name == "IDLE"  # committed: nothing left open
    assert {row.key for row in changes.rows} == {"alice", "bob", "carol", "dave"}  # all
    assert own < changes.cursor.from_seq and own not in changes.cursor.pending
    with rt.read_sessions() as session:
        assert session.get(Ticket, ticket_id).routing_state == "waiting"


@pytest.mark.parametrize("test_config", [twin_config()])
def test_the_feed_read_with_the_ticket_lock_decides_as_a_read_of_its_own(pg_rt, monkeypatch):
    """From the second batch of a thread on, the feed is read in the round trip of the
    tickets' lock (for the workspace routed in last): the same decisions as reading it on its
    own; a batch of another workspace drops that read and reads its own feed."""
    rt = pg_rt
    demo, acme = (add_tickets(rt, slug) for slug in ("demo", "acme"))
    monkeypatch.setattr(assign, "BATCH_MAX", 3)
    lock_and_read, read_ahead, used = route_pg.lock_and_read, agent_cache.read_ahead, []

    def counted(session, ticket_ids, ahead):
        used.append(ahead.workspace_id)
        return lock_and_read(session, ticket_ids, ahead)
    monkeypatch.setattr(route_pg, "lock_and_read", counted)
    ahead = assign.route_all(rt.sessions, rt.config.workspace("demo"), demo)
    with rt.read_sessions() as session:
        demo_id = repo.workspace_row(session, "demo").id
    assert len(used) >= 3 and set(used) == {demo_id}
    monkeypatch.setattr(agent_cache, "read_ahead", lambda *_args: None)
    alone = assign.route_all(rt.sessions, rt.config.workspace("acme"), acme)
    assert [essence(d) for d in ahead] == [essence(d) for d in alone]
    assert store_state(rt, "demo") == store_state(rt, "acme")
    monkeypatch.setattr(agent_cache, "read_ahead", read_ahead)
    last_demo = add_tickets(rt, "demo", TICKETS[4:5], {})
    assert assign.route_all(rt.sessions, rt.config.workspace("demo"), last_demo)
    more, used[:] = add_tickets(rt, "acme", TICKETS[:4], {}), []
    other = assign.route_all(rt.sessions, rt.config.workspace("acme"), more)
    assert used[0] == demo_id and len(other) == 4  # read ahead for demo, then acme's own
    check_invariants(rt)


@pytest.mark.parametrize("test_config", [twin_config()])
def test_the_batch_writes_read_their_agents_by_primary_key(pg_rt):
    """With thousands of agents the planner, which cannot see how many rows a JSON recordset
    holds, joined every agent by a sequential scan; the ids given as an array too make it
    read the rows written by their primary key (EXPLAIN of the statement a batch sends)."""
    rt = pg_rt
    ws, ticket_id = _new_ticket_and_agents(rt)
    with rt.sessions.begin() as session:
        session.execute(text(
            "INSERT INTO agents (workspace_id, key, name, email, skills, departments, "
            "capacity, total, status, calendar, load, used, updated_at) "
            "SELECT :ws, 'many' || n, 'Agent', '', '{}', '[]', '{\"email\": 6}', 12, "
            "'online', '', '{}', 0, now() FROM generate_series(1, 5000) AS n"), {"ws": ws})
        session.execute(text("ANALYZE agents"))
        agent_id = session.scalar(select(Agent.id).where(Agent.workspace_id == ws))
    sql, parameters = route_pg._statement({
        "agents": [{"id": agent_id, "load": {"email": 1}, "used": 1.0, "last_assigned_at": AT,
                    "version": 7}],
        "tickets": [{"id": ticket_id, **ticket_values("alice")}]})
    with rt.sessions.begin() as session:
        raw = session.connection().connection.driver_connection
        plan = "\n".join(row[0] for row in raw.execute("EXPLAIN " + sql, parameters))
    assert "Seq Scan on agents" not in plan and "agents_pkey" in plan
