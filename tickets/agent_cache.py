"""The routing engine of each workspace, kept between decisions in this process, so that routing
a ticket costs in proportion to the agents that *changed*, not to all agents.

Building a router from the store reads and converts every agent row (about 50 ms per 1,000
agents). Instead :func:`cached_router` keeps one :class:`routing.engine.Router` per (database,
workspace) holding engine agents only. Before each decision it reads ``(key, version)`` of the
workspace's agents (``store.models.Agent.version`` is new at every update: a claim, a release,
a PUT), re-reads just the rows whose version it has not seen, drops agents that are gone and
re-evaluates each business-hours calendar once. After the decision the router forgets its
tickets (the store holds them) and every agent it claimed for is re-read next time, whether
the claim committed or was rolled back with its transaction. Each thread has its own cache (a
router is not thread-safe, and a lock around it could deadlock with the store's row locks).
The cache is only an accelerator: the claim in the store (``tickets.route_store.StoreClaim``)
still decides, with the rows locked.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.routing import Routing
from routing.engine import Router
from store.models import Agent
from tickets import route_store as rs

CHUNK = 500  # changed agent rows read per query
_LOCAL = threading.local()  # .entries: database engine -> {workspace id: Entry}, per thread


@dataclass
class Entry:
    routing: Routing
    router: Router
    versions: dict[str, int] = field(default_factory=dict)
    calendar_of: dict[str, str] = field(default_factory=dict)  # agent key -> calendar name
    known_open: dict[str, bool] = field(default_factory=dict)  # calendar -> every agent follows


@contextmanager
def cached_router(session: Session, routing: Routing, workspace_id: int, now: datetime,
                  claim) -> Iterator[Router]:
    """The workspace's cached router, in step with the store as of now, claiming with
    ``claim``. Afterwards (whatever happened) its tickets are forgotten and every agent it
    claimed for is re-read next time, so a claim rolled back with its transaction leaves no
    trace."""
    if not hasattr(_LOCAL, "entries"):
        _LOCAL.entries = weakref.WeakKeyDictionary()
    entries = _LOCAL.entries.setdefault(session.get_bind(), {})
    entry = entries.get(workspace_id)
    if entry is None or (entry.routing is not routing and entry.routing != routing):
        entry = entries[workspace_id] = Entry(routing, Router(routing.make_policy()))
    sync(session, entry, workspace_id, now)
    claimed: set[str] = set()

    def recorded(agent_key: str, ticket_id: str) -> bool:
        if claim(agent_key, ticket_id):
            claimed.add(agent_key)
            return True
        return False
    entry.router.claim = recorded
    try:
        yield entry.router
    finally:
        entry.router.forget_tickets()
        for key in claimed:
            entry.versions.pop(key, None)


def sync(session: Session, entry: Entry, workspace_id: int, now: datetime) -> None:
    table = Agent.__table__  # a Core query: cheaper per row than through the ORM
    current = dict(session.connection().execute(
        select(table.c.key, table.c.version).where(table.c.workspace_id == workspace_id)).all())
    router, policy = entry.router, entry.router.policy
    for key in [k for k in entry.versions if k not in current]:
        router.drop_agent(key)
        del entry.versions[key], entry.calendar_of[key]
    changed = [key for key, version in current.items() if entry.versions.get(key) != version]
    for start in range(0, len(changed), CHUNK):
        for row in session.scalars(select(Agent).where(
                Agent.workspace_id == workspace_id, Agent.key.in_(changed[start:start + CHUNK]))):
            router.put_agent(rs.engine_agent(row, entry.routing, policy, now))
            entry.versions[row.key], entry.calendar_of[row.key] = row.version, row.calendar
    _follow_calendars(entry, now)


def _follow_calendars(entry: Entry, now: datetime) -> None:
    """Each agent's availability from its calendar; each calendar is evaluated once, and only
    the agents of a calendar whose state is not theirs are touched."""
    open_now = {name: entry.routing.calendar(name).is_open(now)
                for name in set(entry.calendar_of.values())}
    if all(entry.known_open.get(name) == state for name, state in open_now.items()):
        return
    index = entry.router.index
    for key, name in entry.calendar_of.items():
        agent = index.agents[key]
        if agent.available != open_now[name]:
            agent.available = open_now[name]
            index.refresh(agent)
    entry.known_open = open_now
