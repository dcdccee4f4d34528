"""The feed of agent changes: the agent rows of a workspace written since a reader last looked,
in one indexed query, whatever the number of agents.

Every insert and update stamps the row's ``change_seq`` (``store.models.change_stamp``). A
:class:`Cursor` says which stamps the reader has not seen yet; each read returns the rows
carrying such a stamp and, from the same statement (so the same snapshot), the cursor for the
next read. A read therefore sees every change committed before it began:

- PostgreSQL stamps the writing transaction's id. Transactions commit in any order, so a
  high-water mark would skip a slow one; the cursor is the read's own snapshot instead: every
  id from its ``xmax`` on, plus the ids it saw in progress and the reader's own transaction
  (a snapshot never lists it) - exactly the transactions whose rows it could not see. A
  transaction left open for long costs one index probe per read, not a rescan.
- SQLite stamps one more than the largest stamp so far. Writers take turns on the database's
  write lock and routing reads inside a write transaction, so the stamps a read has not seen
  are those above the largest it saw - unless its own transaction stamped rows before the
  read and then rolls back, freeing those numbers: a reader whose transaction wrote agents
  keeps its cursor (``advance=False``).

What the reader's own transaction wrote may still roll back: :func:`written_here` names those
agents (noted by the ORM at each flush, and by :func:`note_written` for writes in plain SQL)
so the reader reads them again afterwards (``keys``).
ticketgate never deletes agents; :func:`read_changes` can count them (``count=True``) so a
reader notices a delete made behind its back.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import BigInteger, Text, and_, bindparam, event, func, literal, or_, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session, object_session

from store.models import Agent

AGENTS = Agent.__table__
# What the engine needs of an agent (tickets.route_store.engine_agent), read without the ORM.
COLUMNS = tuple(AGENTS.c[name] for name in (
    "key", "version", "skills", "departments", "capacity", "total", "status", "calendar",
    "load", "last_assigned_at"))
WRITTEN = "agents_written"  # Session.info: (root transaction, {(workspace id, agent key)})


@dataclass(frozen=True)
class Cursor:
    """The stamps a reader has not seen: ``from_seq`` and above, and those in ``pending``."""
    from_seq: int = 0
    pending: tuple[int, ...] = ()


@dataclass
class Changes:
    rows: list[Row]
    cursor: Cursor
    count: int | None  # the workspace's agents, when asked


def read_changes(conn: Connection, workspace_id: int, cursor: Cursor, keys=(),
                 advance: bool = True, count: bool = False) -> Changes:
    """The workspace's agents stamped with a change the cursor has not seen, and those named
    in ``keys``, as they are now; the cursor for the next read (the same one unless
    ``advance``); the number of agents if ``count``."""
    dialect = conn.dialect.name
    statement = _statement(dialect, count, bool(cursor.pending), bool(keys))
    rows = conn.execute(statement, {
        "workspace": workspace_id, "from_seq": cursor.from_seq,
        "pending": list(cursor.pending), "keys": sorted(keys)}).all()
    return changes_of(rows, dialect, cursor, advance, count)


def changes_of(rows, dialect: str, cursor: Cursor, advance: bool = True,
               count: bool = False) -> Changes:
    """The :class:`Changes` of the feed query's rows (the horizon row left-joined to the
    agents), read with ``cursor``."""
    first = rows[0]
    following = cursor
    if advance and dialect == "postgresql":
        following = _after_snapshot(first.snapshot, first.own)
    elif advance:
        following = Cursor(first.next_seq)
    return Changes([row for row in rows if row.key is not None], following,
                   first.agent_count if count else None)


@functools.cache
def _statement(dialect: str, count: bool, pending: bool, keys: bool):
    """The feed's query, built once per shape: the horizon row left-joined to the wanted
    agents (an IN list only when there is one: a list is rendered at each execution)."""
    mine = AGENTS.c.workspace_id == bindparam("workspace")
    wanted = and_(mine, AGENTS.c.change_seq >= bindparam("from_seq"))
    if pending:
        wanted = or_(wanted, and_(
            mine, AGENTS.c.change_seq.in_(bindparam("pending", expanding=True))))
    if keys:
        wanted = or_(wanted, and_(mine, AGENTS.c.key.in_(bindparam("keys", expanding=True))))
    horizon = _horizon(dialect, count).subquery("horizon")
    return select(*horizon.c, *COLUMNS).select_from(horizon.outerjoin(AGENTS, wanted))


def _horizon(dialect: str, count: bool):
    """One row saying what the statement's snapshot has seen (and the number of agents)."""
    if dialect == "postgresql":  # pg_current_snapshot is the running statement's snapshot
        columns = [func.pg_current_snapshot().cast(Text).label("snapshot"),
                   func.pg_current_xact_id_if_assigned().cast(Text).label("own")]
    else:
        largest = select(func.coalesce(func.max(AGENTS.c.change_seq), 0)).scalar_subquery()
        columns = [(largest + literal(1, BigInteger)).label("next_seq")]
    if count:
        columns.append(select(func.count()).where(AGENTS.c.workspace_id == bindparam("workspace"))
                       .scalar_subquery().label("agent_count"))
    return select(*columns)


def _after_snapshot(snapshot: str, own: str | None) -> Cursor:
    """The transactions a snapshot ``xmin:xmax:xip,...`` did not see committed."""
    _xmin, xmax, in_progress = snapshot.split(":")
    pending = {int(xid) for xid in in_progress.split(",") if xid}
    if own:
        pending.add(int(own))
    return Cursor(int(xmax), tuple(sorted(pending)))


def written_here(session: Session, workspace_id: int) -> set[str]:
    """Keys of the workspace's agents this session wrote in its current transaction."""
    noted = session.info.get(WRITTEN)
    if noted is None or noted[0] is not session.get_transaction():
        return set()
    return {key for workspace, key in noted[1] if workspace == workspace_id}


def note_written(session: Session, workspace_id: int, key: str) -> None:
    """Note that this session's transaction wrote the agent (for :func:`written_here`)."""
    root = session.get_transaction()
    noted = session.info.get(WRITTEN)
    if noted is None or noted[0] is not root:
        noted = session.info[WRITTEN] = (root, set())
    noted[1].add((workspace_id, key))


@event.listens_for(Agent, "after_insert")
@event.listens_for(Agent, "after_update")
def _note_flushed(_mapper, _conn, agent: Agent) -> None:
    session = object_session(agent)
    if session is not None:
        note_written(session, agent.workspace_id, agent.key)
