"""The SQLite full-text engine behind ``store.search`` (migration 0017): the ``wanted`` newest
tickets of a filtered ticket query that match a phrase.

A contentless FTS5 table ``ticket_text`` whose rowids order by ticket (``ticket_id *
2**32`` for the subject, ``+ 1 + (message_id - 1) % (2**32 - 1)`` for each message; a phrase
stays within one of them). FTS5 returns a phrase's matches in descending rowid order natively
(``ORDER BY rowid DESC``), stepping through its doclists at a fraction of a microsecond a
match: the matches are read newest ticket first in batches that grow fourfold, and each
batch's tickets are checked against the filters by id inside SQLite (no row of the batch
reaches Python but those that pass), until the page is full.
"""
from __future__ import annotations

from sqlalchemy import Column, column, literal_column, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from store.models import Ticket

TICKET_SHIFT = 32  # a ticket's FTS5 rowids are ticket_id << 32 and the 2**32 - 1 after it
# Filling the index of a store loaded without its triggers (bench/store_writers.py; migration
# 0017 does the same): in two ascending rowid runs.
SQLITE_FILL = (
    "INSERT INTO ticket_text(rowid, text) SELECT id << 32, subject FROM tickets ORDER BY id",
    "INSERT INTO ticket_text(rowid, text) SELECT (ticket_id << 32) + (id - 1) % 4294967295 + 1, "
    "text FROM messages INDEXED BY ix_messages_ticket_id ORDER BY ticket_id, id",
    "INSERT INTO ticket_text(ticket_text) VALUES ('optimize')")
# A batch: the next ``batch`` matching rows below ``below``, newest ticket first.
SQLITE_BATCH = ("SELECT rowid AS r FROM ticket_text WHERE ticket_text MATCH :phrase "
                "AND rowid < :below ORDER BY rowid DESC LIMIT :batch")
SQLITE_BATCH_TICKETS = text(f"SELECT r >> {TICKET_SHIFT} FROM ({SQLITE_BATCH})")
# Filters served by an index of their own that leave few tickets: after a first batch came up
# short, each batch is checked by walking the filter's index over the batch's range of ticket
# ids (an assignee holds one ticket in 200; looking up every match read 5 times more rows).
SPARSE_FILTERS = {"assignee", "customer_id"}
SQLITE_BATCH_END = text(f"SELECT min(r), count(*) FROM ({SQLITE_BATCH})")


class Sqlite:
    FIRST_BATCH = 256      # matching rows read first; each next batch is four times larger
    LARGEST_BATCH = 16_384

    @staticmethod
    def quoted(phrase) -> str:
        """The phrase as one quoted FTS5 string (its syntax characters inert)."""
        return '"' + phrase.text.replace('"', '""') + '"' + (" *" if phrase.prefix else "")

    @classmethod
    def newest_matches(cls, session: Session, ids, phrase, wanted: int) -> list[int]:
        top = session.scalar(ids.order_by(Ticket.id.desc()).limit(1))
        if top is None:
            return []
        sparse = bool(SPARSE_FILTERS & {c.key for c in visitors.iterate(ids.whereclause)
                                        if isinstance(c, Column)})
        below, batch, found = (top + 1) << TICKET_SHIFT, cls.FIRST_BATCH, {}
        while True:
            params = {"phrase": cls.quoted(phrase), "below": below, "batch": batch}
            lowest, rows = session.execute(SQLITE_BATCH_END, params).one()
            if not rows:
                return list(found)[:wanted]
            matching = SQLITE_BATCH_TICKETS.bindparams(**params).columns(column("ticket"))
            if sparse and batch > cls.FIRST_BATCH:
                # the filter's own index over the batch's range of tickets, each checked
                # against the batch's matches ("+": not a lookup per match)
                passing = ids.where(Ticket.id.between(lowest >> TICKET_SHIFT,
                                                      (below - 1) >> TICKET_SHIFT),
                                    literal_column("+tickets.id").in_(matching))
            else:  # the matches into a temporary index, each of their tickets looked up
                passing = ids.where(Ticket.id.in_(matching))
            found.update(dict.fromkeys(sorted(session.scalars(passing), reverse=True)))
            if len(found) >= wanted or rows < batch:
                return list(found)[:wanted]
            below, batch = lowest, min(batch * 4, cls.LARGEST_BATCH)

