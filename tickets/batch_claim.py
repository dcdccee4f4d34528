"""The claim of a batch of routing decisions (``tickets.route_batch``): the agents it gives
tickets to, locked, counted and written once.

The claim keeps each promise of ``tickets.route_store.StoreClaim``: a ticket goes to an agent
only once the agent is locked and its open assignments counted show room. The first pass
takes the cached router's word and checks every claim at the end, all its agents locked in
one statement; if the router's view was stale the pass is void and the batch is decided again,
each claim locking and counting its agent first (:meth:`BatchClaim.settle`). Agents stay locked
until the commit, so the counts kept in memory stay true, and each is written once. Locks, so
that no two transactions can wait for each other:

- tickets are locked with SKIP LOCKED (a ticket another transaction holds is left to the
  one-ticket path, after this transaction), and so are the agents of the first pass;
- the transaction waits for an agent's lock only while it holds no agent lock; any later agent
  is asked for with SKIP LOCKED, and one held elsewhere ends the transaction there
  (:class:`AgentBusy`): the decisions made so far commit, and the ticket that met the lock is
  decided again first in the next transaction, which may wait for it (if it was the first
  ticket, the next transaction is the one-ticket path's: it lets go of an agent that refused
  the ticket before it asks for the next).
"""
from __future__ import annotations

import functools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Text, any_, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from routing.model import Policy
from store.models import Agent, Assignment, utcnow
from tickets import route_store as rs
from tickets.agent_feed import note_written

AGENTS, ASSIGNMENTS = Agent.__table__, Assignment.__table__
_MINE = (AGENTS.c.workspace_id == bindparam("workspace"), AGENTS.c.key == bindparam("key"))
AGENT_EXISTS = select(AGENTS.c.id).where(*_MINE)
UPDATE_AGENT = (update(AGENTS).where(AGENTS.c.id == bindparam("agent"))
                .values(load=bindparam("new_load"), used=bindparam("new_used"),
                        last_assigned_at=bindparam("assigned_at"),
                        version=bindparam("new_version")))


def new_version() -> int:
    """A new random ``version`` for an agent row, as every write gives it (store.models)."""
    return random.getrandbits(62)


def _open_channels(dialect: str):
    """The channels of the agent row's open assignments as one string ("email,email,chat")."""
    listed = (func.string_agg if dialect == "postgresql" else func.group_concat)(
        ASSIGNMENTS.c.channel, literal_column("','"))
    return (select(listed).where(ASSIGNMENTS.c.agent_id == AGENTS.c.id,
                                 ASSIGNMENTS.c.ended_at.is_(None))
            .correlate(AGENTS).scalar_subquery().label("open_channels"))


def _locking(dialect: str, where, skip_locked: bool):
    return (select(AGENTS.c.id, AGENTS.c.key, AGENTS.c.status, AGENTS.c.capacity,
                   AGENTS.c.total, AGENTS.c.load, AGENTS.c.version, _open_channels(dialect))
            .where(*where).with_for_update(of=AGENTS, skip_locked=skip_locked))


@functools.cache
def lock_agent(dialect: str, wait: bool):
    """Lock an agent row and read, in the same statement, the channels of its open
    assignments."""
    return _locking(dialect, _MINE, skip_locked=not wait)


@functools.cache
def lock_agents(dialect: str):
    """Lock the agent rows ``keys`` that no other transaction holds, in key order, with the
    channels of their open assignments. On PostgreSQL the keys are one array parameter: one
    statement text whatever their number, so the driver prepares it once (an IN list is
    rendered, and planned, anew for each number of keys)."""
    keys = AGENTS.c.key == any_(bindparam("keys", type_=ARRAY(Text))) \
        if dialect == "postgresql" else AGENTS.c.key.in_(bindparam("keys", expanding=True))
    return _locking(dialect, (AGENTS.c.workspace_id == bindparam("workspace"), keys),
                    skip_locked=True).order_by(AGENTS.c.key)


def counted(channels: str | None) -> dict[str, int]:
    return dict(Counter(channels.split(","))) if channels else {}


class AgentBusy(Exception):
    """An agent is locked by another transaction while this one holds an agent lock."""


@dataclass
class Held:
    """An agent row this transaction locked: its limits, its load counted from its open
    assignments plus this transaction's claims, and whether the cached router's agent was the
    row when it was locked (same version, the load column equal to the count)."""
    id: int
    key: str
    status: str
    capacity: dict
    total: float
    load: dict
    used: float
    in_step: bool
    version: int = field(default_factory=new_version)  # what the row gets at the end
    assigned_at: datetime | None = None  # of this transaction's last claim (None: none)

    def __post_init__(self):
        self.counted, self.counted_used = dict(self.load), self.used  # when locked

    def reset(self) -> None:
        """Forget this transaction's claims on the agent (it stays locked)."""
        self.load, self.used, self.assigned_at = dict(self.counted), self.counted_used, None


class BatchClaim:
    """``claim(agent_key, ticket_id) -> bool`` for the router, on tickets locked already;
    :meth:`write` stores the claims (before the commit).

    ``deferred``: the first pass over a batch takes the cached router's word: each claim is
    noted and granted, then :meth:`settle` locks every agent named at once and checks the
    claims in order against the agents' open assignments. The cached router is right unless
    another process changed an agent since the batch read the feed; then nothing of that pass
    stands and the batch is decided again, each claim locking and counting its agent first."""

    def __init__(self, session: Session, workspace_id: int, policy: Policy, tickets: dict,
                 known: dict[str, int]):
        self.session, self.workspace_id, self.policy = session, workspace_id, policy
        self.tickets = tickets  # ticket id (str) -> its locked row
        self.known = known  # agent key -> the version the cached router holds
        self.now = utcnow()  # the time of the decision under way
        self.held: dict[str, Held] = {}
        self.assignments: list[dict] = []
        self.deferred = True
        self.noted: list[tuple] = []  # deferred claims: (agent key, ticket row, time)

    def __call__(self, agent_key: str, ticket_id: str) -> bool:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ticket.routing_state not in rs.ROUTABLE:
            return False
        if self.deferred:
            self.noted.append((agent_key, ticket, self.now))
            return True
        agent = self.held.get(agent_key) or self._lock(agent_key)
        return agent is not None and self._take(agent, ticket, self.now)

    def settle(self) -> bool:
        """Lock the agents of the deferred claims and grant the claims in order if each
        agent is online with room; else (or if an agent is held elsewhere) grant none,
        keeping the agents locked, and claim one decision at a time from now on."""
        self.deferred = False
        wanted = sorted({key for key, _ticket, _at in self.noted} - set(self.held))
        if wanted:
            conn = self.session.connection()
            for row in conn.execute(lock_agents(conn.dialect.name),
                                    {"workspace": self.workspace_id, "keys": wanted}):
                self._hold(conn, row)
        for key, ticket, at in self.noted:
            agent = self.held.get(key)
            if agent is None or not self._take(agent, ticket, at):
                for held in self.held.values():
                    held.reset()
                self.assignments = []
                return False
        return True

    def _take(self, agent: Held, ticket, now: datetime) -> bool:
        """Give the ticket to the (locked) agent if it is online with room."""
        channel = ticket.channel
        if agent.status != "online" or not rs.has_room(agent, channel, self.policy):
            return False
        weight = self.policy.weight(channel)
        offer = channel in self.policy.offer_channels
        self.assignments.append({
            "workspace_id": self.workspace_id, "ticket_id": ticket.id,
            "customer_id": ticket.customer_id, "agent_id": agent.id,
            "channel": channel, "units": weight, "started_at": now,
            "accepted_at": None if offer else now, "end_reason": "",
            "offer_expires_at": now + timedelta(seconds=self.policy.offer_timeout_s)
            if offer else None})
        agent.load[channel] = agent.load.get(channel, 0) + 1
        agent.used += weight
        agent.assigned_at = now
        return True

    def _lock(self, key: str) -> Held | None:
        """Lock the agent, waiting only if no other agent is held."""
        conn, where = self.session.connection(), {"workspace": self.workspace_id, "key": key}
        row = conn.execute(lock_agent(conn.dialect.name, not self.held), where).first()
        if row is None:
            if self.held and conn.execute(AGENT_EXISTS, where).first() is not None:
                raise AgentBusy(key)
            return None
        return self._hold(conn, row)

    def _hold(self, conn, row) -> Held:
        """The locked agent with its open assignments counted. The count read with the lock
        comes from the statement's snapshot, taken before any wait for the lock: when it
        differs from the row's load (a transaction that held the lock changed the agent's
        assignments, or a load that drifted) they are counted again, as the one-ticket claim
        always does."""
        column = {c: n for c, n in (row.load or {}).items() if n}
        load = counted(row.open_channels)
        if load != column:
            load = {c: n for c, n in conn.execute(rs.OPEN_LOAD, {"agent": row.id}).all() if n}
        in_step = self.known.get(row.key) == row.version and column == load
        held = self.held[row.key] = Held(
            row.id, row.key, row.status, row.capacity, row.total, load,
            sum(self.policy.weight(c) * n for c, n in load.items()), in_step)
        return held

    def claimed(self) -> list[Held]:
        return [held for held in self.held.values() if held.assigned_at is not None]

    def confirmed(self) -> dict[str, int]:
        """The versions the claimed agents' rows get, for those the router held as the row."""
        return {held.key: held.version for held in self.claimed() if held.in_step}

    def agent_rows(self) -> list[dict]:
        """The claimed agents' new columns (``tickets.route_pg.AGENT_COLUMNS``)."""
        return [{"id": held.id, "load": held.load, "used": held.used,
                 "last_assigned_at": held.assigned_at, "version": held.version}
                for held in self.claimed()]

    def write(self) -> None:
        """Insert the assignments and set each claimed agent's load, in a statement each."""
        if not self.assignments:
            return
        conn = self.session.connection()
        conn.execute(rs.INSERT_ASSIGNMENT, self.assignments)
        conn.execute(UPDATE_AGENT, [
            {"agent": row["id"], "new_load": row["load"], "new_used": row["used"],
             "assigned_at": row["last_assigned_at"], "new_version": row["version"]}
            for row in self.agent_rows()])
        self.written()

    def written(self) -> None:
        """Note the claimed agents as written here; a loaded copy reads its row again."""
        for held in self.claimed():
            note_written(self.session, self.workspace_id, held.key)
            loaded = self.session.identity_map.get(identity_key(Agent, held.id))
            if loaded is not None:
                self.session.expire(loaded)
