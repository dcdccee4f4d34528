"""The new tickets of an ingest batch routed in one transaction (``tickets.route_batch``, through
``assign.route_all``) decide as routing them one transaction each does, keep the store's
invariants, and leave nothing behind when the transaction rolls back."""
from __future__ import annotations

import copy
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from config.workspaces import parse_config
from store import repo
from store.models import Agent, Assignment, AuditEntry, Ticket, utcnow
from tests.conftest import TEST_CONFIG
from tests.gateway.apifactory import add_customer, add_ticket
from tests.routing_store.conftest import routing_block
from tickets import agent_cache, assign, batch_claim, route_batch
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


@pytest.mark.parametrize("first_pass", ["stands", "void"])
@pytest.mark.parametrize("test_config", [twin_config()])
def test_a_batch_decides_as_one_transaction_per_ticket_does(rt_client, monkeypatch,
                                                            first_pass):
    rt, _client = rt_client
    if first_pass == "void":
        claims_one_at_a_time(monkeypatch)
    singles = one_at_a_time(rt, "demo", add_tickets(rt, "demo"))
    batched = assign.route_all(rt.sessions, rt.config.workspace("acme"), add_tickets(rt, "acme"))
    assert [essence(d) for d in batched] == [essence(d) for d in singles]
    kinds = Counter(d.kind for d in batched)
    assert kinds["assign"] >= 5 and kinds["wait"] >= 2  # the order mattered
    assert any(d.explanation.get("chosen", {}).get("previous_agent") for d in batched)
    assert store_state(rt, "acme") == store_state(rt, "demo")
    check_invariants(rt)


IDLE_AGENTS = [{"id": "amy", "skills": {"vat": 1}, "capacity": {"email": 4}, "status": "online"},
               {"id": "zed", "skills": {"fx": 1}, "capacity": {"email": 4}, "status": "online"}]


@pytest.mark.parametrize("first_pass", ["stands", "void"])
@pytest.mark.parametrize("test_config", [twin_config(IDLE_AGENTS)])
def test_the_agent_idle_longest_wins_among_agents_the_batch_just_claimed(rt_client,
                                                                         monkeypatch,
                                                                         first_pass):
    """zed, then amy, get a ticket they alone prefer; the next one goes to zed, idle longer
    (the agent id would say amy): each decision of a batch has its own time."""
    rt, _client = rt_client
    if first_pass == "void":
        claims_one_at_a_time(monkeypatch)
    tickets = [("email", {}, {"fx": 1.0}, "medium"), ("email", {}, {"vat": 1.0}, "medium"),
               ("email", {}, {}, "medium"), ("email", {}, {}, "medium")]
    singles = one_at_a_time(rt, "demo", add_tickets(rt, "demo", tickets, {}))
    batched = assign.route_all(rt.sessions, rt.config.workspace("acme"),
                               add_tickets(rt, "acme", tickets, {}))
    assert [d.agent for d in batched] == [d.agent for d in singles] == ["zed", "amy", "zed",
                                                                        "amy"]


@pytest.mark.parametrize("test_config", [twin_config()])
def test_a_batch_writes_the_audit_trail_one_transaction_per_ticket_writes(rt_client):
    rt, _client = rt_client
    one_at_a_time(rt, "demo", add_tickets(rt, "demo"))
    assign.route_all(rt.sessions, rt.config.workspace("acme"), add_tickets(rt, "acme"))

    def trail(slug: str) -> list[tuple]:
        with rt.read_sessions() as session:
            ws = repo.workspace_row(session, slug).id
            return session.execute(
                select(Ticket.number, AuditEntry.kind, AuditEntry.old, AuditEntry.new)
                .join(Ticket, Ticket.id == AuditEntry.ticket_id).where(Ticket.workspace_id == ws)
                .order_by(Ticket.number, AuditEntry.id)).all()
    assert trail("acme") == trail("demo") and trail("acme")


@pytest.mark.parametrize("test_config", [twin_config()])
def test_batches_of_a_long_list_decide_as_one_batch(rt_client, monkeypatch):
    rt, _client = rt_client
    batched = assign.route_all(rt.sessions, rt.config.workspace("demo"), add_tickets(rt, "demo"))
    monkeypatch.setattr(assign, "BATCH_MAX", 3)
    in_threes = assign.route_all(rt.sessions, rt.config.workspace("acme"),
                                 add_tickets(rt, "acme"))
    assert [essence(d) for d in in_threes] == [essence(d) for d in batched]
    check_invariants(rt)


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
