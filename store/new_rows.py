"""New customers, identities and tickets of an ingest batch, written by one INSERT per table.

The pipeline needs the id of a new row at once (an identity names its customer, a ticket its
customer, every message and thread key its ticket), and an INSERT per row cost most of the
store step's time under the batch's lock (SQL compile, parameters, a round trip on
PostgreSQL). Here the ids are handed out from memory instead: on SQLite the next ones after the
table's largest id (the batch holds the only write lock: nobody else inserts until it commits),
on PostgreSQL a block from the table's sequence, fetched for all three tables by one query per
batch (unused ids of a block are a gap, like those of a rolled-back transaction). The rows
themselves join the session at once as stored rows (``session.get`` finds them; a later change
to one is flushed as an UPDATE) and are written when the batch ends or before anything else is
flushed (``write``): one multi-row INSERT per table, in foreign-key order. New tickets take
their numbers then, all at once and in the order they were opened: on SQLite from the
workspace's counter, on PostgreSQL from its sequence (no gaps either way).

Only the batch's fast path defers its inserts; inside a savepoint (the slow path) a row is
inserted at once, so that a rolled-back savepoint takes it away with it.
"""
from __future__ import annotations

import functools
from collections import defaultdict

from sqlalchemy import bindparam, func, insert, inspect, select, text, update
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached

from store.models import Customer, Identity, Ticket, Workspace

ORDER = (Customer, Identity, Ticket)  # foreign keys: a ticket and an identity name a customer
KEY = "new_rows"  # where a session keeps its NewRows (``session.info``)


class NewRows:
    """The rows a transaction has given ids to and not written yet."""

    def __init__(self, session: Session, bounds: dict[type, int]):
        self.session = session
        self.bounds = bounds  # at most this many rows of each model (PostgreSQL's block size)
        self.free: dict[type, list[int]] = {}  # ids still to hand out, last first
        self.last: dict[type, int] = {}  # SQLite: the largest id handed out
        self.fetched = False  # PostgreSQL: the first block was fetched
        self.unwritten: dict[type, list] = defaultdict(list)

    def add(self, row) -> None:
        """Give ``row`` (a new object, or one added to the session) its id and keep it; its
        Python-side column defaults are applied first, as a flush would."""
        if row in self.session:
            self.session.expunge(row)  # pending: it becomes transient again
        model = type(row)
        state, mapper = row.__dict__, inspect(model)
        for key, column in insert_columns(mapper):
            if key in state:
                continue
            default = column.default
            state[key] = None if default is None else default.arg if default.is_scalar \
                else default.arg(None)
        state[primary_key(mapper)] = self._next_id(model)
        make_transient_to_detached(row)  # what is in its __dict__ now counts as loaded
        self.session.add(row)
        self.unwritten[model].append(row)

    def holds(self, row) -> bool:
        return any(row is kept for kept in self.unwritten.get(type(row), ()))

    def write(self) -> None:
        """Write the kept rows, with their values as they are now (one INSERT per table)."""
        if not any(self.unwritten.values()):
            return
        self._number_tickets()
        connection = self.session.connection()
        for model in ORDER:
            rows = self.unwritten.pop(model, [])
            if rows:
                columns = insert_columns(inspect(model))
                connection.execute(insert(model.__table__),
                                   [{column.key: row.__dict__[key] for key, column in columns}
                                    for row in rows])
                _forget_changes(self.session, rows)

    def _number_tickets(self) -> None:
        """Numbers for the new tickets that have none yet, per workspace in opening order."""
        waiting = defaultdict(list)
        for ticket in self.unwritten.get(Ticket, ()):
            if ticket.__dict__.get("number") is None:
                waiting[ticket.__dict__["workspace_id"]].append(ticket)
        for workspace_id, tickets in waiting.items():
            numbers = take_numbers(self.session, workspace_id, len(tickets))
            for ticket, number in zip(tickets, numbers):
                ticket.__dict__["number"] = number  # no history: it is part of the INSERT

    def _next_id(self, model) -> int:
        free = self.free.get(model)
        if not free:
            free = self.free[model] = self._fetch_ids(model)
        return free.pop()

    def _fetch_ids(self, model) -> list[int]:
        """Ids to hand out, last first (``pop``). SQLite: the next one after the largest."""
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            last = self.last.get(model)
            if last is None:
                last = connection.scalar(select(func.max(model.__table__.c.id))) or 0
            self.last[model] = last + 1
            return [last + 1]
        if not self.fetched:  # the batch's first: a block of every table, one round trip
            self.fetched = True
            blocks = connection.execute(BLOCKS, {m.__tablename__: max(self.bounds.get(m, 0), 1)
                                                 for m in ORDER}).one()
            for m, block in zip(ORDER, blocks):
                self.free[m] = sorted(block, reverse=True)
            return self.free[model]
        return sorted(connection.scalars(ONE_TABLE, {"table": model.__tablename__,
                                                     "n": max(self.bounds.get(model, 0), 1)}),
                      reverse=True)


BLOCKS = text(", ".join(  # one round trip: a block of ids of each table
    f"ARRAY(SELECT nextval(pg_get_serial_sequence('{m.__tablename__}', 'id')) "
    f"FROM generate_series(1, :{m.__tablename__}))" for m in ORDER).join(("SELECT ", "")))
ONE_TABLE = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                 "FROM generate_series(1, :n)")


def take_numbers(session: Session, workspace_id: int, count: int) -> list[int]:
    """``count`` consecutive new ticket numbers of the workspace (see ``repo.next_ticket_number``)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return sorted(connection.scalars(NUMBERS, {"name": number_sequence(workspace_id),
                                                   "n": count}))
    last = connection.scalar(TAKE_NUMBERS, {"workspace": workspace_id, "count": count})
    return list(range(last - count + 1, last + 1))


def number_sequence(workspace_id: int) -> str:
    """The PostgreSQL sequence of a workspace's ticket numbers."""
    return f"ticket_numbers_{int(workspace_id)}"


NUMBERS = text("SELECT nextval(:name) FROM generate_series(1, :n)")
WORKSPACES = Workspace.__table__
TAKE_NUMBERS = (update(WORKSPACES).where(WORKSPACES.c.id == bindparam("workspace"))
                .values(last_ticket_number=WORKSPACES.c.last_ticket_number
                        + bindparam("count"))
                .returning(WORKSPACES.c.last_ticket_number))


def _forget_changes(session: Session, rows: list) -> None:
    """Rows changed after they were kept (a later message of the batch counted on its new
    ticket) were written with those changes: they are stored rows without changes now."""
    for row in rows:
        if inspect(row).modified:
            session.expunge(row)
            make_transient(row)
            make_transient_to_detached(row)
            session.add(row)


def of(session: Session) -> NewRows | None:
    """The session's NewRows when its inserts may wait (never inside a savepoint)."""
    rows = session.info.get(KEY)
    if rows is None or session.in_nested_transaction():
        return None
    return rows


def start(session: Session, bounds: dict[type, int]) -> NewRows:
    """Let this transaction's new rows wait for ``write`` (the ingest batch's fast path)."""
    rows = session.info[KEY] = NewRows(session, bounds)
    return rows


def write(session: Session) -> None:
    """Write the rows waiting in ``session``, if any (before a flush or a query needs them)."""
    rows = session.info.get(KEY)
    if rows is not None:
        rows.write()


@functools.cache
def insert_columns(mapper) -> tuple:
    """(attribute key, column) of every column a mapped class's INSERT may name."""
    return tuple((attr.key, attr.columns[0]) for attr in mapper.column_attrs)


@functools.cache
def primary_key(mapper) -> str:
    (key,) = [k for k, column in insert_columns(mapper) if column.primary_key]
    return key
