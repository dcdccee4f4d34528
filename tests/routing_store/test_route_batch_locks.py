"""A routing batch among other transactions: killed before its commit it leaves nothing
claimed; it never waits for a ticket or a second agent another transaction holds (so it
cannot deadlock), and it decides those tickets all the same; processes routing the same
tickets in batches at once give each ticket one decision and one agent at most."""
from __future__ import annotations

import copy
import multiprocessing
import random
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select, text

from config.workspaces import parse_config
from store import repo
from store.db import make_engine, session_factory
from store.models import Agent, Assignment, AuditEntry, Ticket
from tests.conftest import POSTGRES_URL, TEST_CONFIG, _truncate_postgres
from tests.gateway.apifactory import add_ticket
from tests.routing_store import batch_crasher
from tests.routing_store.conftest import routing_block
from tests.routing_store.batch_helpers import AGENTS, add_tickets, check_invariants, \
    store_state
from tickets import agents, assign

WAIT_S = 30  # longest wait for a condition before the test fails
SPLIT_AGENTS = [{"id": "alice", "skills": {"billing": 3}, "capacity": {"email": 2},
                 "status": "online"},
                {"id": "bob", "skills": {"vat": 1}, "capacity": {"email": 2}, "status": "online"}]


def config_data(agent_list=AGENTS) -> dict:
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = routing_block(agents=agent_list)
    return data


def spawn(target, *args):
    process = multiprocessing.get_context("spawn").Process(target=target, args=args)
    process.start()
    return process


@pytest.mark.parametrize("test_config", [parse_config(config_data())])
def test_a_batch_killed_before_its_commit_leaves_nothing_claimed(rt_client):
    rt, _client = rt_client
    ticket_ids = add_tickets(rt, "demo")
    before = store_state(rt, "demo")
    process = spawn(batch_crasher.killed_mid_write, rt.settings.database_url, config_data(),
                    "demo", ticket_ids)
    process.join(timeout=120)
    assert process.exitcode == -9
    assert store_state(rt, "demo") == before  # every ticket still new, every load as it was
    with rt.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Assignment)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    decisions = assign.route_all(rt.sessions, rt.config.workspace("demo"), ticket_ids)
    assert len(decisions) == len(ticket_ids)  # what the sweep does next: all are routed
    check_invariants(rt)


def postgres_only(rt) -> None:
    if not rt.settings.database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL (SQLite runs one writer at a time)")


def wait_for(condition) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def states(rt, ticket_ids) -> dict[int, tuple]:
    with rt.read_sessions() as session:
        return {t.id: (t.routing_state, t.assignee)
                for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}


def locked_elsewhere(rt, statement: str, **params):
    """Another transaction holding a row lock: (its connection, its transaction)."""
    conn = make_engine(rt.settings.database_url).connect()
    transaction = conn.begin()
    conn.execute(text(statement), params)
    return conn, transaction


def route_in_thread(rt, ticket_ids):
    done = {}
    thread = threading.Thread(target=lambda: done.setdefault("decisions", assign.route_all(
        rt.sessions, rt.config.workspace("demo"), ticket_ids)))
    thread.start()
    return thread, done


@pytest.mark.parametrize("test_config", [parse_config(config_data(SPLIT_AGENTS))])
def test_a_second_agent_locked_elsewhere_ends_the_transaction_instead_of_waiting(rt_client):
    """Holding alice for the first ticket, the batch does not wait for bob (who could be
    waiting for alice): it commits the first decision and waits for bob in a new one."""
    rt, _client = rt_client
    postgres_only(rt)
    billing, vat = add_tickets(rt, "demo", [("email", {"billing": 1}, {}, "medium"),
                                            ("email", {"vat": 1}, {}, "medium")])
    conn, transaction = locked_elsewhere(rt, "SELECT id FROM agents WHERE key = 'bob' "
                                             "FOR UPDATE")
    try:
        thread, done = route_in_thread(rt, [billing, vat])
        wait_for(lambda: states(rt, [billing])[billing] == ("assigned", "alice"))
        assert states(rt, [vat])[vat][0] == "new"  # waiting for bob, in a transaction of its own
    finally:
        transaction.rollback()
        conn.close()
    thread.join(timeout=WAIT_S)
    assert [(d.kind, d.agent) for d in done["decisions"]] == [("assign", "alice"),
                                                              ("assign", "bob")]
    check_invariants(rt)


@pytest.mark.parametrize("test_config", [parse_config(config_data())])
def test_a_ticket_locked_elsewhere_is_routed_after_the_batch(rt_client):
    rt, _client = rt_client
    postgres_only(rt)
    ticket_ids = add_tickets(rt, "demo")
    held = ticket_ids[1]
    conn, transaction = locked_elsewhere(rt, "SELECT id FROM tickets WHERE id = :id FOR UPDATE",
                                         id=held)
    try:
        thread, done = route_in_thread(rt, ticket_ids)
        others = [t for t in ticket_ids if t != held]
        wait_for(lambda: all(s != "new" for s, _ in states(rt, others).values()))
        assert states(rt, [held])[held][0] == "new"
    finally:
        transaction.rollback()
        conn.close()
    thread.join(timeout=WAIT_S)
    assert {int(d.ticket) for d in done["decisions"]} == set(ticket_ids)
    assert states(rt, [held])[held][0] in ("assigned", "waiting")
    check_invariants(rt)


PROCESSES, TICKETS = 4, 120
CROWD = [{"id": f"agent{i}", "skills": {"billing": 1 + i % 3}, "capacity": {"email": 3},
          "status": "online"} for i in range(8)]


@pytest.fixture(scope="module")
def crowd(migrated_postgres):
    """PROCESSES processes route the same TICKETS new tickets at once, each in its own order
    and batches of its own size."""
    _truncate_postgres(migrated_postgres)
    sessions = session_factory(migrated_postgres)
    data, rnd = config_data(CROWD), random.Random(3)
    config = parse_config(data).workspace("demo")
    with sessions.begin() as session:
        agents.seed_agents(session, repo.workspace_row(session, "demo").id, config.routing)
        ticket_ids = [add_ticket(session, "demo", routing_state="new",
                                 skills=rnd.choice(({}, {"billing": 2}, {"billing": 3})),
                                 priority=rnd.choice(("low", "medium", "urgent"))).id
                      for _ in range(TICKETS)]
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    processes = [ctx.Process(target=batch_crasher.route_in_batches, args=(
        POSTGRES_URL, data, random.Random(n).sample(ticket_ids, TICKETS), (5, 5, 10, 20)[n],
        barrier, results)) for n in range(PROCESSES)]
    for process in processes:
        process.start()
    reports = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    return sessions, ticket_ids, reports


def test_processes_routing_the_same_tickets_give_each_one_decision(crowd):
    sessions, ticket_ids, reports = crowd
    decided = Counter(ticket for made, _ in reports for ticket, _, _ in made)
    assert sorted(decided) == sorted(ticket_ids) and set(decided.values()) == {1}
    assert sum(1 for made, _ in reports if made) >= 2  # they really competed
    assert [refused for _, refused in reports] == [0] * PROCESSES  # no deadlock, no fallback
    with sessions() as session:
        held = session.execute(select(Assignment.ticket_id, Assignment.agent_id, Assignment.channel)
                               .where(Assignment.ended_at.is_(None))).all()
        rows = session.scalars(select(Agent)).all()
        states = Counter(session.scalars(select(Ticket.routing_state)))
    assert len({t for t, _, _ in held}) == len(held) == states["assigned"] > 0
    assert states["assigned"] + states["waiting"] == TICKETS
    for agent in rows:
        load = Counter(c for _, a, c in held if a == agent.id)
        assert {c: n for c, n in agent.load.items() if n} == dict(load), agent.key
        assert all(n <= agent.capacity.get(c, 0) for c, n in load.items()), agent.key


ALONE = [{"id": "alice", "capacity": {"email": 2}, "status": "online"}]


@pytest.mark.parametrize("test_config", [parse_config(config_data(ALONE))])
def test_assignments_committed_while_the_batch_waited_for_the_agent_are_counted(rt_client):
    """The batch reads alice's open assignments in the statement that locks her, from a
    snapshot taken before it waited for her lock; the transaction it waited for gave her
    another ticket, so they are counted again: she does not go over capacity."""
    rt, _client = rt_client
    postgres_only(rt)
    config = rt.config.workspace("demo")
    first, other_ticket, last = add_tickets(rt, "demo", [("email", {}, {}, "medium")] * 3, {})
    assert [d.agent for d in assign.route_all(rt.sessions, config, [first])] == ["alice"]
    elsewhere = session_factory(make_engine(rt.settings.database_url))()
    elsewhere.begin()
    alice = elsewhere.scalar(select(Agent).where(Agent.key == "alice").with_for_update())
    elsewhere.add(Assignment(workspace_id=alice.workspace_id, ticket_id=other_ticket,
                             customer_id=elsewhere.get(Ticket, other_ticket).customer_id,
                             agent_id=alice.id, channel="email", units=1.0))
    alice.load, alice.used = {"email": 2}, 2.0
    elsewhere.flush()
    try:
        thread, done = route_in_thread(rt, [last])
        wait_for(lambda: waiting_for_a_lock(rt) > 0)
        elsewhere.commit()
    finally:
        elsewhere.close()
    thread.join(timeout=WAIT_S)
    assert [(d.kind, d.explanation.get("claims_refused")) for d in done["decisions"]] == [
        ("wait", ["alice"])]
    with rt.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.ended_at.is_(None))) == 2


def waiting_for_a_lock(rt) -> int:
    with rt.read_sessions() as session:
        return session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE "
                                   "wait_event_type = 'Lock' AND datname = current_database()"))
