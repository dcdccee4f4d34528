"""The new tickets of an ingest batch routed in one transaction (``tickets.route_batch``, through
``assign.route_all``) decide as routing them one transaction each does and keep the store's
invariants. Rollbacks, rechecks and failures: ``test_route_batch_recheck``."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from store import repo
from store.models import AuditEntry, Ticket
from tests.routing_store.batch_helpers import (
    add_tickets, check_invariants, claims_one_at_a_time, essence, one_at_a_time, store_state,
    twin_config)
from tickets import assign


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
