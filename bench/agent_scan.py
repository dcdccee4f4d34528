"""The agent cache's previous way of keeping in step, for comparison in the same run: before
each decision, scan ``(key, version)`` of every agent of the workspace and read the rows whose
version it has not seen (what ``tickets.agent_cache`` did before the change feed).

    with scanning():  # decisions in this block sync by the scan
        assign.route_all(...)
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import agent_cache
from tickets.agent_feed import AGENTS, COLUMNS

CHUNK = 500  # changed agent rows read per query, as before


def scan_sync(session: Session, entry: agent_cache.Entry, workspace_id: int,
              now: datetime) -> None:
    conn = session.connection()
    current = dict(conn.execute(select(AGENTS.c.key, AGENTS.c.version)
                                .where(AGENTS.c.workspace_id == workspace_id)).all())
    for key in [k for k in entry.versions if k not in current]:
        entry.router.drop_agent(key)
        entry.followers[entry.calendar_of.pop(key)] -= 1
        del entry.versions[key]
    entry.reread.clear()  # the scan reads every changed version anyway
    agent_cache._follow_calendars(entry, now)
    changed = [key for key, version in current.items() if entry.versions.get(key) != version]
    for start in range(0, len(changed), CHUNK):
        for row in conn.execute(select(*COLUMNS).where(
                AGENTS.c.workspace_id == workspace_id,
                AGENTS.c.key.in_(changed[start:start + CHUNK]))):
            agent_cache._put(entry, row, now)
    return len(changed)


def never_unchanged(*_args) -> bool:
    return False


@contextmanager
def scanning():
    """Decisions made inside sync by the scan instead of the change feed, and a wait is
    always rechecked (``assign.route_all`` had no cheap way to tell nothing changed)."""
    feed, peek = agent_cache.sync, agent_cache.unchanged_since_last_read
    agent_cache.sync, agent_cache.unchanged_since_last_read = scan_sync, never_unchanged
    try:
        yield
    finally:
        agent_cache.sync, agent_cache.unchanged_since_last_read = feed, peek
