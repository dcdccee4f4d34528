"""A routing batch's writes on PostgreSQL in one statement, so one round trip: the new
assignments, the claimed agents, the audit rows and the tickets, each a data-modifying CTE
reading its rows from a JSON array (``json_to_recordset``).

What it writes is what the multi-row statements of ``tickets.batch_claim.BatchClaim.write``
and ``tickets.route_rows.write_many`` write (SQLite keeps those): the agents get a new
``version`` and the writing transaction's ``change_seq`` (``store.models.change_stamp``), the
tickets the columns of ``route_rows.decided`` (the same set for every decision). The CTEs of one
statement share its snapshot and touch different tables, so the order they run in does not
matter; the foreign keys and the tickets' triggers (``report_log``) run at the statement's end
as they would after separate statements. JSON values stay ``json`` (not ``jsonb``) and are
dumped as the driver dumps them, so a routing reason is stored as the same text.
"""
from __future__ import annotations

import functools
import json
from datetime import date, datetime

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tickets import route_rows
from tickets.agent_feed import Changes, Cursor, changes_of

# (column, SQL type) of each recordset; the CTE of a kind is left out when it has no rows.
ASSIGNMENT_COLUMNS = (("workspace_id", "bigint"), ("ticket_id", "bigint"),
                      ("customer_id", "bigint"), ("agent_id", "bigint"),
                      ("channel", "text"), ("units", "float8"), ("started_at", "timestamptz"),
                      ("accepted_at", "timestamptz"), ("end_reason", "text"),
                      ("offer_expires_at", "timestamptz"))
AGENT_COLUMNS = (("id", "bigint"), ("load", "json"), ("used", "float8"),
                 ("last_assigned_at", "timestamptz"), ("version", "bigint"))
AUDIT_COLUMNS = (("ticket_id", "bigint"), ("kind", "text"), ("old", "text"), ("new", "text"),
                 ("actor", "text"), ("at", "timestamptz"))
TICKET_COLUMNS = (("id", "bigint"), ("assignee", "text"), ("priority", "text"),
                  ("queued_at", "timestamptz"), ("routing_next_at", "timestamptz"),
                  ("routing_reason", "json"), ("routing_state", "text"),
                  ("routing_step", "integer"), ("routing_step_at", "timestamptz"))
# The ticket columns every decision sets (route_rows.decided, with the assignee kept).
TICKET_SET = frozenset(name for name, _type in TICKET_COLUMNS if name != "id")


def _recordset(name: str, columns) -> str:
    spec = ", ".join(f"{column} {kind}" for column, kind in columns)
    return f"json_to_recordset(%({name})s::json) AS r({spec})"


def _insert(table: str, name: str, columns) -> str:
    listed = ", ".join(column for column, _kind in columns)
    return f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {_recordset(name, columns)}"


def _update(table: str, name: str, columns, extra: str = "") -> str:
    """The UPDATE of the rows of a recordset, joined on ``id``. The ids are also given as an
    array (``<name>_ids``): the planner cannot see how many rows a recordset has (it assumes
    100), and with fresh statistics of the agents (after an ANALYZE, as autovacuum makes)
    it joined all 10,000 of them by a sequential scan, 2.3 ms of the server's CPU a batch;
    from the array it counts the rows and reads them through the primary key."""
    sets = ", ".join(f"{column} = r.{column}" for column, _kind in columns if column != "id")
    return (f"UPDATE {table} SET {sets}{extra} FROM {_recordset(name, columns)} "
            f"WHERE {table}.id = r.id AND {table}.id = ANY(%({name}_ids)s::bigint[])")


PARTS = {
    "assignments": _insert("assignments", "assignments", ASSIGNMENT_COLUMNS),
    "agents": _update("agents", "agents", AGENT_COLUMNS,
                      ", change_seq = pg_current_xact_id()::text::bigint"),
    "audits": _insert("ticket_events", "audits", AUDIT_COLUMNS),
    "tickets": _update("tickets", "tickets", TICKET_COLUMNS),
}
UPDATED = frozenset(("agents", "tickets"))  # the kinds of PARTS updating rows by id


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _statement(rows: dict[str, list[dict]]) -> tuple[str, dict] | None:
    """The one statement writing the rows of each kind of :data:`PARTS` given, and its
    parameters; None when there is nothing to write."""
    kinds = [kind for kind in PARTS if rows.get(kind)]
    if not kinds:
        return None
    ctes = ",\n".join(f"{kind} AS ({PARTS[kind]})" for kind in kinds)
    parameters = {kind: json.dumps(rows[kind], default=_plain) for kind in kinds}
    parameters.update({f"{kind}_ids": [row["id"] for row in rows[kind]]
                       for kind in kinds if kind in UPDATED})
    return f"WITH {ctes}\nSELECT 1", parameters


def write(conn: Connection, **rows: list[dict]) -> None:
    """Write the rows of each kind of :data:`PARTS` given (``assignments=[...]``, ...) in one
    statement; kinds without rows are left out."""
    if statement := _statement(rows):
        conn.exec_driver_sql(*statement)


def _feed(count: bool) -> str:
    """The agent feed's query (``tickets.agent_feed``) in the driver's own terms: the horizon
    row of the statement's snapshot (with the number of agents if ``count``) left-joined to
    the wanted agents."""
    counted = (", (SELECT count(*) FROM agents WHERE workspace_id = %(workspace)s) "
               "AS agent_count" if count else "")
    return ("SELECT h.*, a.key, a.version, a.skills, a.departments, a.capacity, "
            "a.total, a.status, a.calendar, a.load, a.last_assigned_at "
            "FROM (SELECT pg_current_snapshot()::text AS snapshot, "
            f"pg_current_xact_id_if_assigned()::text AS own{counted}) AS h "
            "LEFT JOIN agents AS a ON a.workspace_id = %(workspace)s "
            "AND (a.change_seq >= %(from_seq)s OR a.change_seq = ANY(%(pending)s::bigint[]) "
            "OR a.key = ANY(%(keys)s::text[]))")


FEED = {count: _feed(count) for count in (False, True)}


@functools.cache
def _lock_many(dialect) -> tuple[str, dict]:
    """``route_rows.LOCK_MANY`` with the ids as one array parameter, in the driver's terms,
    and its other parameters (the subquery's LIMIT)."""
    statement = (select(*route_rows.LOCK_MANY.selected_columns)
                 .where(route_rows.TICKETS.c.id == any_(
                     bindparam("tickets", type_=ARRAY(BigInteger))))
                 .order_by(route_rows.TICKETS.c.id)
                 .with_for_update(of=route_rows.TICKETS, skip_locked=True))
    compiled = statement.compile(dialect=dialect)
    return str(compiled), compiled.params


def lock_and_read(session: Session, ticket_ids, ahead) -> tuple[dict, Changes]:
    """``route_rows.lock_many`` and the agent feed's read for ``ahead``
    (``agent_cache.read_ahead``) sent together (the driver's pipeline mode): one round trip,
    after the BEGIN. An error is raised as SQLAlchemy raises it."""
    session.flush()
    conn = session.connection()
    raw = conn.connection.driver_connection
    sql, fixed = _lock_many(conn.dialect)
    with raw.cursor(row_factory=namedtuple_row) as locking, \
            raw.cursor(row_factory=namedtuple_row) as reading:
        try:
            with raw.pipeline():
                locking.execute(sql, {**fixed, "tickets": list(ticket_ids)})
                reading.execute(FEED[ahead.count], _feed_parameters(
                    ahead.workspace_id, ahead.cursor, ahead.keys))
        except psycopg.Error as exc:
            raise DBAPIError.instance(sql, None, exc, psycopg.Error,
                                      dialect=conn.dialect) from exc
        rows = {row.id: row for row in locking.fetchall()}
        return rows, changes_of(reading.fetchall(), "postgresql", ahead.cursor,
                                count=ahead.count)


def write_commit_read(conn: Connection, workspace_id: int, then_read, **rows: list[dict]
                      ) -> Changes | None:
    """Write the rows (as :func:`write`) and commit; with ``then_read`` (a feed cursor and
    keys) read the workspace's agent feed in a transaction of its own after the commit: one
    round trip (the driver's pipeline mode). The read is the recheck of the batch's waits
    (``tickets.assign.route_all``): it sees every change committed before the commit ended.

    The commit is the transaction's: the caller's own commit afterwards finds nothing to
    do. An error before the commit ended is raised as SQLAlchemy raises it (the caller's
    transaction rolls back); one in the read alone returns None (the caller reads again)."""
    raw = conn.connection.driver_connection
    statement = _statement(rows)
    with raw.cursor() as writing, raw.cursor() as committing, \
            raw.cursor(row_factory=namedtuple_row) as reading:
        try:
            with raw.pipeline():
                if statement:
                    writing.execute(*statement)
                committing.execute("COMMIT")
                if then_read is not None:
                    reading.execute(FEED[False], _feed_parameters(workspace_id, *then_read))
        except psycopg.Error as exc:
            if committing.statusmessage == "COMMIT":
                return None
            raise DBAPIError.instance(statement[0] if statement else "COMMIT", None, exc,
                                      psycopg.Error, dialect=conn.dialect) from exc
        if then_read is None:
            return None
        return changes_of(reading.fetchall(), "postgresql", then_read[0])


def _feed_parameters(workspace_id: int, cursor: Cursor, keys) -> dict:
    return {"workspace": workspace_id, "from_seq": cursor.from_seq,
            "pending": list(cursor.pending), "keys": sorted(keys)}
