"""The routing engine of each workspace, kept between decisions in this process, so that routing
a ticket costs in proportion to the agents that *changed*, not to all agents.

Building a router from the store reads and converts every agent row (about 50 ms per 1,000
agents). Instead :func:`cached_router` keeps one :class:`routing.engine.Router` per (database,
workspace) holding engine agents only. Before each decision it reads the feed of agent changes
(``tickets.agent_feed``): one indexed query returning the rows written since its last read -
by any process, committed before this one began - and the rows it must read again. A row is
read again after a decision of ours may have changed it (a claim, an agent our transaction
wrote): whether that transaction committed or rolled back, the next decision sees the row as
the store has it. Each business-hours calendar is evaluated once until its next opening or
closing. Every ``DELETE_CHECK_S`` the read also counts the agents, so a row deleted behind our
back (ticketgate never deletes agents) makes the cache start over. Each thread has its own
cache (a router is not thread-safe, and a lock around it could deadlock with the store's row
locks). The cache is only an accelerator: the claim in the store
(``tickets.route_store.StoreClaim``) still decides, with the rows locked.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from config.routing import Routing
from routing.engine import Router
from tickets import route_store as rs
from tickets.agent_feed import Changes, Cursor, read_changes, written_here

DELETE_CHECK_S = 10.0  # seconds between counts of a workspace's agents (a delete elsewhere)
HOURS_RECHECK = timedelta(hours=1)  # a calendar without a change ahead is evaluated again
_LOCAL = threading.local()  # .entries: database engine -> {workspace id: Entry}, per thread


@dataclass
class Hours:
    """A calendar's state: open or not from ``since`` until ``until`` (excluded)."""
    open: bool
    since: datetime
    until: datetime

    def holds_at(self, now: datetime) -> bool:
        return self.since <= now < self.until


@dataclass
class Entry:
    routing: Routing
    router: Router
    cursor: Cursor = field(default_factory=Cursor)
    versions: dict[str, int] = field(default_factory=dict)
    calendar_of: dict[str, str] = field(default_factory=dict)  # agent key -> calendar name
    followers: Counter = field(default_factory=Counter)  # calendar name -> its agents
    hours: dict[str, Hours] = field(default_factory=dict)  # calendar name -> state
    reread: set[str] = field(default_factory=set)  # agent keys to read again
    counted_at: float = field(default_factory=time.monotonic)


@contextmanager
def cached_router(session: Session, routing: Routing, workspace_id: int, now: datetime,
                  claim, confirmed=None, read: Changes | None = None) -> Iterator[Router]:
    """The workspace's cached router, in step with the store as of now, claiming with
    ``claim``. Afterwards (whatever happened) its tickets are forgotten and every agent it
    claimed for or this transaction wrote is read again next time, so a claim rolled back
    with its transaction leaves no trace. ``confirmed()``: {agent key: version} of agents
    whose row, once this transaction commits, is what the router holds of them already (its
    own claims on a row nobody else changed); the next read compares the row's version with
    it and converts the row again only when they differ (a rollback, a later change).
    ``read``: the feed read already in this transaction with what :func:`read_ahead` gave."""
    entry = _entry(session, routing, workspace_id)
    sync(session, entry, workspace_id, now, read)
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
        entry.reread |= claimed | written_here(session, workspace_id)
        for key in entry.reread:
            entry.versions.pop(key, None)
        if confirmed is not None:
            entry.versions.update(confirmed())


def read_again(session: Session, routing: Routing, workspace_id: int, now: datetime,
               keys) -> None:
    """Bring the workspace's router in step again, reading these agents as the store has
    them whatever the router holds (it took tickets for them that did not stand)."""
    entry = _entry(session, routing, workspace_id)
    entry.reread |= set(keys)
    for key in keys:
        entry.versions.pop(key, None)
    sync(session, entry, workspace_id, now)


def known_versions(session: Session, routing: Routing, workspace_id: int) -> dict[str, int]:
    """The version of each agent row the workspace's cached router holds (as of its last
    read, live): a claim that finds the same version on the locked row knows the router's
    agent is the row."""
    return _entry(session, routing, workspace_id).versions


def _entry(session: Session, routing: Routing, workspace_id: int) -> Entry:
    return _entry_of(session.get_bind(), routing, workspace_id)


def _entry_of(bind, routing: Routing, workspace_id: int) -> Entry:
    if not hasattr(_LOCAL, "entries"):
        _LOCAL.entries = weakref.WeakKeyDictionary()
    entries = _LOCAL.entries.setdefault(bind, {})
    entry = entries.get(workspace_id)
    if entry is None or (entry.routing is not routing and entry.routing != routing):
        entry = entries[workspace_id] = Entry(routing, Router(routing.make_policy()))
    return entry


def sync(session: Session, entry: Entry, workspace_id: int, now: datetime,
         read: Changes | None = None) -> int:
    """Bring the entry's router in step with the store: the agents changed since the last
    read and those to read again (``read``: that read, made already); all of them again if
    an agent was deleted meanwhile. Returns how many agents it changed."""
    _LOCAL.last = (session.get_bind(), workspace_id)
    count = _count_due(entry) if read is None else read.count is not None
    changes = read or read_changes(session.connection(), workspace_id, entry.cursor,
                                   entry.reread, advance=not written_here(session, workspace_id),
                                   count=count)
    fresh = _apply(entry, changes, now)
    if count:
        entry.counted_at = time.monotonic()
        if changes.count != len(entry.router.index):
            _start_over(entry)
            return sync(session, entry, workspace_id, now)
    return fresh


def _apply(entry: Entry, changes: Changes, now: datetime) -> int:
    """Put the changed agents of a read of the feed into the router; how many changed."""
    fresh = [row for row in changes.rows if entry.versions.get(row.key) != row.version]
    try:
        _follow_calendars(entry, now)
        for row in fresh:
            _put(entry, row, now)
    except Exception:  # a row the engine refuses: nothing half-applied survives
        _start_over(entry)
        raise
    entry.cursor, entry.reread = changes.cursor, set()
    return len(fresh)


def _count_due(entry: Entry) -> bool:
    return time.monotonic() - entry.counted_at >= DELETE_CHECK_S


@dataclass(frozen=True)
class Ahead:
    """A read of the feed to make with the first statement of a transaction, for the
    workspace the thread routed in last (``tickets.route_pg.lock_and_read``)."""
    workspace_id: int
    cursor: Cursor
    keys: frozenset
    count: bool


def read_ahead(session: Session, routing: Routing) -> Ahead | None:
    """What the feed read of the next :func:`cached_router` will ask for, if it is for the
    workspace this thread last routed in on this database and this transaction wrote no
    agent yet (its read advances the cursor); a read made so is handed to
    :func:`cached_router` only if the transaction routes in that workspace."""
    bind, workspace_id = getattr(_LOCAL, "last", (None, None))
    if bind is not session.get_bind() or written_here(session, workspace_id):
        return None
    entry = _entry(session, routing, workspace_id)
    return Ahead(workspace_id, entry.cursor, frozenset(entry.reread), _count_due(entry))


def next_read(session: Session, routing: Routing, workspace_id: int) -> tuple[Cursor, set]:
    """What the next read of the workspace's feed asks for: (cursor, keys to read again); for
    a read made elsewhere (``tickets.route_pg``) and handed to :func:`unchanged_after`."""
    entry = _entry(session, routing, workspace_id)
    return entry.cursor, set(entry.reread)


def unchanged_after(bind, routing: Routing, workspace_id: int, now: datetime,
                    changes: Changes) -> bool:
    """:func:`unchanged_since_last_read` with the read done already, on the database engine
    ``bind``: ``changes``, the feed read (in a transaction of its own, advancing) with what
    :func:`next_read` gave, no other read of the workspace's feed in this thread since."""
    _LOCAL.last = (bind, workspace_id)
    return _apply(_entry_of(bind, routing, workspace_id), changes, now) == 0


def unchanged_since_last_read(session: Session, routing: Routing, now: datetime) -> bool:
    """Whether no agent of the workspace this thread last routed in has changed since that
    read (the cache is brought in step on the way): a decision made then would be made the
    same now."""
    bind, workspace_id = getattr(_LOCAL, "last", (None, None))
    if bind is not session.get_bind():
        return False
    return sync(session, _entry(session, routing, workspace_id), workspace_id, now) == 0


def _put(entry: Entry, row, now: datetime) -> None:
    router = entry.router
    available = _hours(entry, row.calendar, now).open
    router.put_agent(rs.engine_agent(row, entry.routing, router.policy, now, available))
    entry.versions[row.key] = row.version
    before = entry.calendar_of.get(row.key)
    if before != row.calendar:
        if before is not None:
            entry.followers[before] -= 1
        entry.followers[row.calendar] += 1
        entry.calendar_of[row.key] = row.calendar


def _start_over(entry: Entry) -> None:
    """Forget every agent: the next read returns them all."""
    entry.router, entry.cursor = Router(entry.routing.make_policy()), Cursor()
    entry.versions, entry.calendar_of, entry.followers = {}, {}, Counter()
    entry.hours, entry.reread = {}, set()


def _hours(entry: Entry, name: str, now: datetime) -> Hours:
    """The calendar's state at ``now``, evaluated again only past its next change."""
    hours = entry.hours.get(name)
    if hours is None or not hours.holds_at(now):
        calendar = entry.routing.calendar(name)
        until = calendar.next_change(now) or now + HOURS_RECHECK
        hours = entry.hours[name] = Hours(calendar.is_open(now), now, until)
    return hours


def _follow_calendars(entry: Entry, now: datetime) -> None:
    """Each agent's availability from its calendar: only the agents of a calendar that
    opened or closed since the last decision are touched."""
    changed = set()
    for name, followers in entry.followers.items():
        before = entry.hours.get(name)
        if followers and (before is None or not before.holds_at(now)):
            if before is None or _hours(entry, name, now).open != before.open:
                changed.add(name)
    if not changed:
        return
    index = entry.router.index
    for key, name in entry.calendar_of.items():
        agent = index.agents[key]
        if name in changed and agent.available != entry.hours[name].open:
            agent.available = entry.hours[name].open
            index.refresh(agent)
