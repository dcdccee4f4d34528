"""A routing decision's ticket in plain SQL: locked together with the customer's previous
agent, then written back with its audit events; one ticket, or the tickets of a batch at once
(one locking query, multi-row writes).

Routing runs short transactions, and the unit of work cost about half of a decision; these
statements are built once. The session's pending changes are flushed before the lock,
and a copy of the ticket the session has loaded is expired after the write, so a caller that
holds the ticket as an object reads the decision from the row.
"""
from __future__ import annotations

import functools

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from routing.ladder import next_rung_at
from routing.model import Decision, Request
from store.models import Agent, Assignment, AuditEntry, Ticket, utcnow
from tickets.route_store import kept_reason, moment

TICKETS, AGENTS, ASSIGNMENTS = Ticket.__table__, Agent.__table__, Assignment.__table__
# What a decision reads of its ticket: a Request (route_store.build_request), the claim and
# the write-back.
ROUTING_COLUMNS = tuple(TICKETS.c[name] for name in (
    "id", "workspace_id", "channel", "skills", "preferred", "priority", "created_at", "sla",
    "excluded", "department", "routing_step", "routing_step_at", "queued_at",
    "routing_reason", "routing_state", "assignee"))
# Only a preference: PostgreSQL evaluates it on the snapshot taken before a wait for the lock.
# An assignment carries its ticket's customer: the latest is the first entry of
# ix_assignments_customer (customer_id, started_at), however many tickets the customer has.
# A ticket without a customer has no previous agent (NULL = NULL is not true).
PREVIOUS_AGENT = (select(AGENTS.c.key)
                  .join(ASSIGNMENTS, ASSIGNMENTS.c.agent_id == AGENTS.c.id)
                  .where(ASSIGNMENTS.c.customer_id == TICKETS.c.customer_id)
                  .order_by(ASSIGNMENTS.c.started_at.desc()).limit(1)
                  .correlate(TICKETS).scalar_subquery())
LOCK_FOR_ROUTING = (select(*ROUTING_COLUMNS, TICKETS.c.customer_id,
                           PREVIOUS_AGENT.label("previous"))
                    .where(TICKETS.c.id == bindparam("ticket")).with_for_update(of=TICKETS))
LOCK_MANY = (select(*ROUTING_COLUMNS, TICKETS.c.customer_id, PREVIOUS_AGENT.label("previous"))
             .where(TICKETS.c.id.in_(bindparam("tickets", expanding=True)))
             .order_by(TICKETS.c.id).with_for_update(of=TICKETS, skip_locked=True))
AUDIT = insert(AuditEntry.__table__)


def lock_for_routing(session: Session, ticket_id: int) -> tuple[Row | None, str | None]:
    """The ticket's routing columns and ``customer_id``, locked, and the agent who last held
    it or another ticket of its customer (if any)."""
    session.flush()
    row = session.connection().execute(LOCK_FOR_ROUTING, {"ticket": ticket_id}).first()
    return (row, row.previous) if row else (None, None)


def lock_many(session: Session, ticket_ids) -> dict[int, Row]:
    """The tickets' routing columns (as :func:`lock_for_routing`, and ``customer_id``) by
    id, locked. A ticket
    another transaction holds locked is left out (SKIP LOCKED): a batch never waits for a
    ticket while it holds others, so it cannot close a cycle of waits."""
    session.flush()
    rows = session.connection().execute(LOCK_MANY, {"tickets": list(ticket_ids)})
    return {row.id: row for row in rows}


def write_back(session: Session, ticket, request: Request, decision: Decision) -> None:
    """Copy the engine's view of the ticket and the decision's explanation to its row, with
    the audit events (``repo.audit``'s rows); ``ticket``: a row of :func:`lock_for_routing`
    or a Ticket."""
    values, audits = decided(ticket, request, decision)
    if audits:
        at = utcnow()
        session.connection().execute(AUDIT, [
            {"ticket_id": ticket.id, "kind": kind, "old": old, "new": new, "actor": "router",
             "at": at} for kind, old, new in audits])
    set_columns(session, ticket.id, values)


def write_many(session: Session, done) -> None:
    """:func:`write_back` of many decisions ``(ticket, request, decision)`` in a statement
    per kind of write: one multi-row INSERT of the audit rows, one UPDATE executed for every
    ticket (a decision that names no assignee writes the one its locked row has, so assigned
    and waiting tickets share the statement's columns)."""
    audits, tickets = many_rows(done)
    updates = {}
    for values in tickets:
        names = tuple(name for name in values if name != "id")
        updates.setdefault(names, []).append({
            "ticket": values["id"], **{f"new_{name}": values[name] for name in names}})
    conn = session.connection()
    if audits:
        conn.execute(AUDIT, audits)
    for names, rows in updates.items():
        conn.execute(_ticket_update(names), rows)
    expire_many(session, done)


def many_rows(done) -> tuple[list[dict], list[dict]]:
    """The audit rows and the tickets' new columns (``id`` and the columns, sorted by name)
    of the decisions ``(ticket, request, decision)``."""
    audits, tickets = [], []
    at = utcnow()
    for ticket, request, decision in done:
        values, events = decided(ticket, request, decision)
        values.setdefault("assignee", ticket.assignee)
        tickets.append({"id": ticket.id, **dict(sorted(values.items()))})
        audits += [{"ticket_id": ticket.id, "kind": kind, "old": old, "new": new,
                    "actor": "router", "at": at} for kind, old, new in events]
    return audits, tickets


def expire_many(session: Session, done) -> None:
    """Copies of the decided tickets the session has loaded read their rows again."""
    for ticket, _request, _decision in done:
        _expire(session, ticket.id)


def decided(ticket, request: Request, decision: Decision) -> tuple[dict, list[tuple]]:
    """The ticket's routing columns after the decision, and its audit events."""
    reason = {**kept_reason(ticket), "decision": decision.kind, "agent": decision.agent,
              "at": moment(decision.at).isoformat(), **decision.explanation}
    values = {"routing_reason": reason, "routing_step": request.step,
              "routing_step_at": moment(request.step_entered),
              "queued_at": moment(request.enqueued), "priority": request.priority}
    audits = []
    if request.priority != ticket.priority:
        audits.append(("priority", ticket.priority, request.priority))
    if decision.kind == "assign":
        if ticket.assignee != decision.agent:
            audits.append(("assignee", ticket.assignee or "", decision.agent))
        values.update(assignee=decision.agent, routing_state="assigned", routing_next_at=None)
    elif decision.kind == "offer":  # the assignee is named once the agent accepts
        audits.append(("offer", "", decision.agent))
        expires = moment(decision.explanation["offer_expires"])
        reason["offer_expires"] = expires.isoformat()
        values.update(routing_state="offered", routing_next_at=expires)
    elif decision.kind == "park":
        values.update(routing_state="parked", routing_next_at=None)
    else:  # wait or escalate: still in the queue
        values.update(routing_state="waiting", routing_next_at=moment(next_rung_at(request)))
    return values, audits


def set_columns(session: Session, ticket_id: int, values: dict) -> None:
    """Update these columns of the ticket's row; a copy the session has loaded is expired."""
    session.connection().execute(_ticket_update(tuple(values)), {
        "ticket": ticket_id, **{f"new_{name}": value for name, value in values.items()}})
    _expire(session, ticket_id)


def _expire(session: Session, ticket_id: int) -> None:
    """A copy of the ticket the session has loaded reads the row again when next used."""
    loaded = session.identity_map.get(identity_key(Ticket, ticket_id))
    if loaded is not None:
        session.expire(loaded)


@functools.cache
def _ticket_update(names: tuple[str, ...]):
    """The UPDATE of these columns of one ticket, built once per set of columns."""
    return (update(TICKETS).where(TICKETS.c.id == bindparam("ticket"))
            .values({name: bindparam(f"new_{name}") for name in names}))
