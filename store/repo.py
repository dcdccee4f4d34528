"""Repository functions of the core store: small queries and writes the workers and API share.

Every function takes an open ``Session`` inside the caller's transaction; none commits.
"""
from __future__ import annotations

import functools

from sqlalchemy import bindparam, delete, exists, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from store import new_rows
from store.models import (FINISHED, AuditEntry, Contact, Customer, Identity, Participant, Ticket,
                          Workspace, utcnow)
from store.new_rows import insert_columns, number_sequence, primary_key

MAX_MERGE_HOPS = 20  # a merge chain longer than this is a data error, not a loop to follow


def ensure_workspace(sessions, slug: str, name: str = "") -> None:
    """Create the workspace's row (and on PostgreSQL its ticket number sequence) in a
    transaction of its own, before any batch takes numbers from it."""
    try:
        with sessions.begin() as session:
            row = workspace_row(session, slug, name)
            if session.get_bind().dialect.name == "postgresql":
                _create_number_sequence(session, row.id)
    except IntegrityError:
        pass  # another worker created it at the same moment


def _create_number_sequence(session: Session, workspace_id: int) -> None:
    sequence = number_sequence(workspace_id)
    if session.scalar(text("SELECT to_regclass(:name)"), {"name": sequence}) is None:
        session.execute(text(f"CREATE SEQUENCE {sequence}"))
        session.execute(text("SELECT setval(:name, COALESCE((SELECT MAX(number) FROM tickets "
                             "WHERE workspace_id = :id), 0) + 1, false)"),
                        {"name": sequence, "id": workspace_id})


def workspace_row(session: Session, slug: str, name: str = "") -> Workspace:
    """The workspace's row, created on first use; cached for the session (one per batch)."""
    cache = session.info.setdefault("workspaces", {})
    if slug not in cache:
        row = session.scalar(select(Workspace).where(Workspace.slug == slug))
        if row is None:
            row = Workspace(slug=slug, name=name, last_ticket_number=0)
            session.add(row)
            session.flush()
            if session.get_bind().dialect.name == "postgresql":
                _create_number_sequence(session, row.id)
        cache[slug] = row
    return cache[slug]


IDENTITY_PREFIXES = ("telegram", "chat", "phone")  # address "kind:value"; anything else is email


def identity_key(address: str) -> tuple[str, str]:
    """The identity an address names: ``("chat", "v1")`` for ``chat:v1``, else an email."""
    kind, sep, value = address.partition(":")
    if sep and kind in IDENTITY_PREFIXES:
        return kind, value
    return "email", address.lower()


def identity(session: Session, workspace_id: int, kind: str, value: str) -> Identity | None:
    return session.scalar(select(Identity).where(Identity.workspace_id == workspace_id,
                                                 Identity.kind == kind, Identity.value == value))


def create_customer(session: Session, workspace_id: int, name: str, kind: str,
                    value: str) -> tuple[Customer, Identity]:
    customer = Customer(workspace_id=workspace_id, name=name)
    insert_now(session, customer)
    return customer, add_identity(session, customer, kind, value)


def add_identity(session: Session, customer: Customer, kind: str, value: str) -> Identity:
    found = Identity(workspace_id=customer.workspace_id, customer_id=customer.id, kind=kind,
                     value=value)
    insert_now(session, found)
    return found


def insert_now(session: Session, row) -> None:
    """Insert ``row``, a new object, at once by one Core INSERT instead of a flush of the unit
    of work (a flush costs about half a millisecond of CPU however little it writes; the
    ingest batch made two per new ticket, under its lock). Its Python-side column defaults
    are applied first, as a flush would; the session then holds it as a stored row, so later
    changes to it are flushed as UPDATEs. Anything else pending waits for the next flush.

    Inside a savepoint (the batch's slow path) it is flushed as before: a savepoint's rollback
    makes the session forget the rows its flushes inserted, not rows added as stored ones.

    In the ingest batch's fast path (``store.new_rows``) the row gets its id at once and its
    INSERT waits to be written with the batch's other new rows."""
    if session.in_nested_transaction():
        session.add(row)
        session.flush()
        return
    waiting = new_rows.of(session)
    if waiting is not None:
        waiting.add(row)
        return
    if row in session:
        session.expunge(row)  # pending: it becomes transient again
    mapper, state = inspect(type(row)), row.__dict__  # transient: nothing to track yet
    values = {}
    for key, column in insert_columns(mapper):
        if key in state:
            value = state[key]
        elif column.default is not None and column.default.is_scalar:
            value = column.default.arg
        elif column.default is not None and column.default.is_callable:
            value = column.default.arg(None)
        else:
            value = None
        if value is None and (column.primary_key or column.server_default is not None
                              or column.computed is not None):
            continue  # the database's to fill in (an expired attribute, read when used)
        state[key] = values[column.key] = value
    result = session.connection().execute(_insert_of(mapper), values)
    state[primary_key(mapper)] = result.inserted_primary_key[0]
    make_transient_to_detached(row)  # what is in its __dict__ now counts as loaded
    session.add(row)


@functools.cache
def _insert_of(mapper):
    return insert(mapper.local_table)


def add_contact(session: Session, customer: Customer, kind: str, value: str) -> Contact:
    """An unproven way to reach ``customer`` (shown, never used to find or link anyone)."""
    found = Contact(workspace_id=customer.workspace_id, customer_id=customer.id, kind=kind,
                    value=value)
    session.add(found)
    return found


def drop_contact(session: Session, customer_id: int, kind: str, value: str) -> None:
    flush(session)  # the contact may have been added in this very transaction
    session.execute(delete(Contact).where(Contact.customer_id == customer_id,
                                          Contact.kind == kind, Contact.value == value))


def insert_rows(session: Session, model, rows: list[dict]) -> None:
    """Plain INSERTs at once (one statement for many rows), without the ORM's unit of work:
    the pipeline never reads these rows back as objects, and the unit of work cost a third of
    the store step."""
    if rows:
        session.execute(insert(model), rows)


def ticket_by_number(session: Session, workspace_id: int, number: int) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.workspace_id == workspace_id,
                                               Ticket.number == number))


def survivor(session: Session, ticket: Ticket) -> Ticket:
    """Follow merges to the ticket that now holds the conversation."""
    for _ in range(MAX_MERGE_HOPS):
        if ticket.merged_into_id is None:
            return ticket
        ticket = session.get(Ticket, ticket.merged_into_id)
    return ticket


def is_participant(session: Session, ticket_id: int, address: str) -> bool:
    """Whether ``address`` takes part in the ticket: a participant row (the sender or Cc of a
    verified inbound message), or an identity of the ticket's customer. One query."""
    kind, value = identity_key(address)
    listed = exists().where(Participant.ticket_id == ticket_id,
                            Participant.address == address.lower())
    owned = exists().where(Ticket.id == ticket_id, Identity.customer_id == Ticket.customer_id,
                           Identity.kind == kind, Identity.value == value)
    return bool(session.scalar(select(listed | owned)))


def participants_among(session: Session, ticket_id: int, addresses: list[str]) -> set[str]:
    """Which of ``addresses`` already take part in the ticket."""
    return set(session.scalars(select(Participant.address).where(
        Participant.ticket_id == ticket_id, Participant.address.in_(addresses))))


def next_ticket_number(session: Session, workspace_id: int) -> int:
    """Take the workspace's next ticket number.

    PostgreSQL: from the workspace's sequence (``ensure_workspace`` creates it), which locks
    nothing until commit, so the batches of several workers do not queue on the workspace row;
    a rolled-back batch leaves a gap in the numbers, never a duplicate. SQLite serializes writers
    anyway: a counter on the workspace row.
    """
    connection = session.connection()  # Core, without the ORM's update machinery or autoflush
    if connection.dialect.name == "postgresql":
        return connection.scalar(text("SELECT nextval(:name)"),
                                 {"name": number_sequence(workspace_id)})
    return connection.scalar(TAKE_NUMBER, {"workspace": workspace_id})


WORKSPACES = Workspace.__table__
TAKE_NUMBER = (update(WORKSPACES).where(WORKSPACES.c.id == bindparam("workspace"))
               .values(last_ticket_number=WORKSPACES.c.last_ticket_number + 1)
               .returning(WORKSPACES.c.last_ticket_number))


def flush(session: Session) -> None:
    """``session.flush()``, after the rows waiting in ``store.new_rows`` (which the flushed
    rows may name, and which a flush would otherwise UPDATE before they exist)."""
    new_rows.write(session)
    session.flush()


def audit(session: Session, ticket: Ticket, kind: str, old: str = "", new: str = "",
          actor: str = "system") -> None:
    waiting = new_rows.of(session)
    if waiting is not None and (ticket.id is None or waiting.holds(ticket)):
        if ticket.id is None:  # a new ticket not inserted yet (the ingest pipeline inserts late)
            waiting.add(ticket)
        waiting.write()  # the entry names the ticket: its row first
    elif ticket.id is None:
        session.flush()
    insert_rows(session, AuditEntry, [{"ticket_id": ticket.id, "kind": kind, "old": old,
                                        "new": new, "actor": actor, "at": utcnow()}])


def set_status(session: Session, ticket: Ticket, status: str, actor: str = "system") -> None:
    if ticket.status != status:
        audit(session, ticket, "status", ticket.status, status, actor)
        if ticket.status in FINISHED and status not in FINISHED:
            ticket.reopen_count = (ticket.reopen_count or 0) + 1  # for tickets.reports
        ticket.status = status
