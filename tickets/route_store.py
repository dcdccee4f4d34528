"""The routing engine against the store: engine agents and requests built from rows, and the
atomic claim (a decision's ticket itself is read and written by ``tickets.route_rows``).

The claim is what makes many workers on many machines safe. It locks the ticket row (checking
the ticket is still routable), then the agent row, recounts the agent's open assignments per
channel and in weighted units, and only then inserts the assignment. Lock order is always
ticket -> agent; a refill (one agent taking waiting tickets) asks for ticket locks with SKIP
LOCKED, so it never waits while holding an agent lock and two workers cannot deadlock. The
partial unique index on open assignments backs it up: one open assignment per ticket.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from config.routing import Routing
from routing.index import EPSILON
from routing.model import Agent as EngineAgent, Policy, Request
from store.models import Agent, Assignment, Customer, Ticket
from tickets.agent_feed import note_written

ROUTABLE = ("new", "waiting")


def seconds(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def moment(value: float | None) -> datetime | None:
    if value is None or not math.isfinite(value):
        return None
    return datetime.fromtimestamp(value, timezone.utc)


def total_units(row: Agent, policy: Policy) -> float:
    """The agent's weighted cap: ``total``, else the sum of its channel capacities."""
    return row.total or sum(policy.weight(c) * n for c, n in row.capacity.items())


def engine_agent(row: Agent, routing: Routing, policy: Policy, now: datetime,
                 available: bool | None = None) -> EngineAgent:
    """The engine's agent of a row (an ORM row or one of ``tickets.agent_feed.COLUMNS``);
    ``available``: its calendar's state now, if the caller knows it already."""
    if available is None:
        available = routing.calendar(row.calendar).is_open(now)
    return EngineAgent(row.key, dict(row.skills), dict(row.capacity), total_units(row, policy),
                       row.status, available=available,
                       departments=frozenset(row.departments),
                       last_assigned=seconds(row.last_assigned_at) or -math.inf,
                       load={c: n for c, n in (row.load or {}).items() if n})


def lock_agent(session: Session, workspace_id: int, key: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.workspace_id == workspace_id,
                                              Agent.key == key)
                          .with_for_update().execution_options(populate_existing=True))


def lock_ticket(session: Session, ticket_id: int, skip_locked: bool = False) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.id == ticket_id)
                          .with_for_update(skip_locked=skip_locked)
                          .execution_options(populate_existing=True))


def open_load(session: Session, agent_id: int) -> dict[str, int]:
    rows = session.execute(select(Assignment.channel, func.count()).where(
        Assignment.agent_id == agent_id, Assignment.ended_at.is_(None))
        .group_by(Assignment.channel))
    return {channel: count for channel, count in rows}


def recount(session: Session, agent: Agent, policy: Policy) -> None:
    """Set the locked agent's ``load`` and ``used`` from its open assignments."""
    agent.load = open_load(session, agent.id)
    agent.used = sum(policy.weight(c) * n for c, n in agent.load.items())


def has_room(agent: Agent, channel: str, policy: Policy) -> bool:
    if agent.load.get(channel, 0) >= agent.capacity.get(channel, 0):
        return False
    return agent.used + policy.weight(channel) <= total_units(agent, policy) + EPSILON


class StoreClaim:
    """``claim(agent_key, ticket_id) -> bool`` for :class:`routing.engine.Router`."""

    def __init__(self, session: Session, workspace_id: int, policy: Policy, now: datetime,
                 skip_locked: bool = False, check_presence: bool = True, offers: bool = True,
                 locked=None):
        self.session, self.workspace_id, self.policy = session, workspace_id, policy
        self.now, self.skip_locked, self.check_presence = now, skip_locked, check_presence
        self.offers = offers  # False: a manual hand-over, never an offer
        self.locked = locked  # a ticket (row) this transaction has locked already

    def __call__(self, agent_key: str, ticket_id: str) -> bool:
        ticket = self.locked
        if ticket is None or str(ticket.id) != ticket_id:
            ticket = lock_ticket(self.session, int(ticket_id), self.skip_locked)
        if ticket is None or ticket.routing_state not in ROUTABLE:
            return False
        return self.take(agent_key, ticket)

    def take(self, agent_key: str, ticket: Ticket) -> bool:
        """Give the (locked) ticket to the agent if the agent has room right now. On
        PostgreSQL a refusal rolls back to a savepoint, which drops the agent's row lock: a
        route that goes on to the next candidate holds no lock another worker could be
        waiting for (no deadlock).
        In plain SQL, not through the unit of work (a third of a decision's time): pending
        changes are flushed first, and a loaded copy of the agent is expired afterwards."""
        self.session.flush()
        conn = self.session.connection()
        # SQLite has no row locks, and a refusal has written nothing: no savepoint needed.
        savepoint = conn.begin_nested() if conn.dialect.name != "sqlite" else None
        agent = self._take(conn, agent_key, ticket)
        if savepoint is not None:
            (savepoint.commit if agent else savepoint.rollback)()
        if agent is None:
            return False
        note_written(self.session, self.workspace_id, agent_key)
        loaded = self.session.identity_map.get(identity_key(Agent, agent.id))
        if loaded is not None:
            self.session.expire(loaded)
        return True

    def _take(self, conn, agent_key: str, ticket: Ticket) -> Room | None:
        row = conn.execute(LOCK_AGENT, {"workspace": self.workspace_id, "key": agent_key}).first()
        if row is None or (self.check_presence and row.status != "online"):
            return None
        load = dict(conn.execute(OPEN_LOAD, {"agent": row.id}).all())
        agent = Room(row.id, row.capacity, row.total, load,
                     sum(self.policy.weight(c) * n for c, n in load.items()))
        channel = ticket.channel
        if not has_room(agent, channel, self.policy):
            return None
        offer = self.offers and channel in self.policy.offer_channels
        conn.execute(INSERT_ASSIGNMENT, {
            "workspace_id": self.workspace_id, "ticket_id": ticket.id,
            "customer_id": ticket.customer_id, "agent_id": agent.id,
            "channel": channel, "units": self.policy.weight(channel), "started_at": self.now,
            "accepted_at": None if offer else self.now, "end_reason": "",
            "offer_expires_at": self.now + timedelta(seconds=self.policy.offer_timeout_s)
            if offer else None})
        conn.execute(UPDATE_AGENT, {
            "agent": agent.id, "new_load": {**load, channel: load.get(channel, 0) + 1},
            "new_used": agent.used + self.policy.weight(channel), "assigned_at": self.now})
        return agent


@dataclass
class Room:
    """What the claim needs of a locked agent row, its load counted from open assignments."""
    id: int
    capacity: dict
    total: float
    load: dict
    used: float


AGENTS, ASSIGNMENTS = Agent.__table__, Assignment.__table__
LOCK_AGENT = (select(AGENTS.c.id, AGENTS.c.status, AGENTS.c.capacity, AGENTS.c.total)
              .where(AGENTS.c.workspace_id == bindparam("workspace"),
                     AGENTS.c.key == bindparam("key")).with_for_update())
OPEN_LOAD = (select(ASSIGNMENTS.c.channel, func.count())
             .where(ASSIGNMENTS.c.agent_id == bindparam("agent"),
                    ASSIGNMENTS.c.ended_at.is_(None)).group_by(ASSIGNMENTS.c.channel))
INSERT_ASSIGNMENT = insert(ASSIGNMENTS)
UPDATE_AGENT = (update(AGENTS).where(AGENTS.c.id == bindparam("agent"))
                .values(load=bindparam("new_load"), used=bindparam("new_used"),
                        last_assigned_at=bindparam("assigned_at")))


def customer_tags(session: Session, ticket: Ticket) -> frozenset[str]:
    customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    return frozenset(customer.tags or ()) if customer else frozenset()


# What a Request needs of a ticket row, the routing reason reduced to its ladder's name: the
# pending queue reads hundreds of rows, whose full explanations are not needed.
REQUEST_COLUMNS = (Ticket.id, Ticket.channel, Ticket.skills, Ticket.preferred, Ticket.priority,
                   Ticket.created_at, Ticket.sla, Ticket.excluded, Ticket.department,
                   Ticket.routing_step, Ticket.routing_step_at, Ticket.queued_at,
                   Ticket.routing_reason["ladder"].as_string().label("ladder"))


def request_of(ticket: Ticket, routing: Routing, previous: str | None = None) -> Request:
    return build_request(ticket, (ticket.routing_reason or {}).get("ladder"), routing, previous)


def build_request(fields, ladder: str | None, routing: Routing,
                  previous: str | None = None) -> Request:
    """The engine's request of a ticket; ``fields``: the Ticket or a row of REQUEST_COLUMNS."""
    due = (fields.sla or {}).get("first_response_due")
    created = seconds(fields.created_at)
    return Request(str(fields.id), fields.channel, dict(fields.skills or {}),
                   dict(fields.preferred or {}), fields.priority, created=created,
                   sla_due=seconds(datetime.fromisoformat(due)) if due else None,
                   excluded=set(fields.excluded or ()), previous_agent=previous,
                   department=fields.department or None, ladder=routing.ladder(ladder),
                   step=fields.routing_step or 0,
                   step_entered=seconds(fields.routing_step_at) or created,
                   enqueued=seconds(fields.queued_at))


def kept_reason(ticket: Ticket) -> dict:
    """What a new routing decision keeps of the ticket's ``routing_reason``: the rules and
    raisers that classified it and its ladder."""
    return {k: v for k, v in (ticket.routing_reason or {}).items()
            if k in ("rules", "reasons", "ladder")}
