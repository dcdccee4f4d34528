"""The SQLite full-text engine behind ``store.search`` (migration 0017): the ``wanted`` newest
tickets of a filtered ticket query that match a phrase.

A contentless FTS5 table ``ticket_text`` whose rowids order by ticket (``ticket_id *
2**32`` for the subject, ``+ 1 + (message_id - 1) % (2**32 - 1)`` for each message; a phrase
stays within one of them). FTS5 returns a phrase's matches in descending rowid order natively
(``ORDER BY rowid DESC``): the matches are read newest ticket first in batches, and each
batch's tickets are checked against the filters by id inside SQLite (no row of the batch
reaches Python but those that pass), until the page is full.

What a batch costs: a single word's matches are read at a fraction of a microsecond each, but
every match of a phrase of several words is found by stepping through the doclists of all its
words (a common word's doclist nearly in full), so a phrase's first batch is sized to the page
(``wanted`` and a quarter), and every next batch to what the batches so far found: the rows
still needed at the density seen (``next_batch``). A batch is one statement: FTS5 reads it
once (``MATERIALIZED``), for the tickets that pass and for where the next one starts.
"""
from __future__ import annotations

import math
import re

from sqlalchemy import Column, Integer, column, func, literal_column, null, select, text
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
# Filters served by an index of their own that leave few tickets: after a first batch came up
# short, each batch is checked by walking the filter's index over the batch's range of ticket
# ids (an assignee holds one ticket in 200; looking up every match read 5 times more rows).
SPARSE_FILTERS = {"assignee", "customer_id"}
WORD = re.compile(r"[^\W_]+")  # about what FTS5's unicode61 takes for a word (a guess suffices)


def batch_of(params: dict):
    """A batch's matching rows (``r``), read once by FTS5 however often the statement uses it."""
    return (text(SQLITE_BATCH).bindparams(**params).columns(column("r", Integer))
            .cte("batch").prefix_with("MATERIALIZED"))


def batch_tickets(batch):
    """The tickets of a batch's rows."""
    return select(batch.c.r.op(">>")(literal_column(str(TICKET_SHIFT))))


class Sqlite:
    FIRST_BATCH = 256      # matching rows read first (a phrase of several words: fewer)
    LARGEST_BATCH = 16_384
    GROWTH = 4             # a batch after one in which no ticket passed: this many times larger
    SLACK = 1.25           # a next batch holds this many times the rows the density asks

    @staticmethod
    def quoted(phrase) -> str:
        """The phrase as one quoted FTS5 string (its syntax characters inert)."""
        return '"' + phrase.text.replace('"', '""') + '"' + (" *" if phrase.prefix else "")

    @classmethod
    def first_batch(cls, phrase, wanted: int) -> int:
        """A phrase of several words costs a step through its words' doclists per match: only
        about a page of matches first. One word (or a prefix, whose doclists FTS5 merges
        anew for every batch) costs little a match: more."""
        if phrase.prefix or len(WORD.findall(phrase.text)) < 2:
            return cls.FIRST_BATCH
        return min(cls.FIRST_BATCH, wanted + wanted // 4)

    @classmethod
    def next_batch(cls, batch: int, read: int, passed: int, wanted: int) -> int:
        """Rows to read next, ``read`` rows having given ``passed`` of the ``wanted`` tickets:
        the rows the rest needs at the density seen, with slack."""
        if not passed:
            return min(batch * cls.GROWTH, cls.LARGEST_BATCH)
        return min(math.ceil((wanted - passed) * read / passed * cls.SLACK), cls.LARGEST_BATCH)

    @classmethod
    def newest_matches(cls, session: Session, ids, phrase, wanted: int) -> list[int]:
        top = session.scalar(ids.order_by(Ticket.id.desc()).limit(1))
        if top is None:
            return []
        sparse = bool(SPARSE_FILTERS & {c.key for c in visitors.iterate(ids.whereclause)
                                        if isinstance(c, Column)})
        below, batch, found, read = (top + 1) << TICKET_SHIFT, cls.first_batch(phrase, wanted), {}, 0
        while True:
            rows = cls.read_batch(session, ids, {"phrase": cls.quoted(phrase), "below": below,
                                                 "batch": batch}, sparse and read > 0)
            (lowest, count), passing = rows[None], rows["passing"]
            found.update(dict.fromkeys(sorted(passing, reverse=True)))
            read += count
            if len(found) >= wanted or count < batch:
                return list(found)[:wanted]
            below, batch = lowest, cls.next_batch(batch, read, len(found), wanted)

    @staticmethod
    def read_batch(session: Session, ids, params: dict, walk_filter: bool) -> dict:
        """One batch in one statement: ``{None: (lowest rowid, rows), "passing": tickets}``."""
        found = {"passing": []}
        for lowest, count, ticket in session.execute(batch_statement(ids, params, walk_filter)):
            if ticket is None:
                found[None] = (lowest, count)
            else:
                found["passing"].append(ticket)
        return found


def batch_statement(ids, params: dict, walk_filter: bool):
    """A batch's lowest rowid and row count (a row with no ticket), then the tickets of ``ids``
    among its matches (a row each). ``walk_filter``: the filter's own index walked over the
    batch's range of tickets, each checked against the batch's matches ("+": not a lookup per
    match); else the matches go into a temporary index and each of their tickets is looked
    up."""
    batch = batch_of(params)
    if walk_filter:
        top = (params["below"] - 1) >> TICKET_SHIFT
        lowest = select(func.min(batch.c.r).op(">>")(literal_column(str(TICKET_SHIFT))))
        passing = ids.where(Ticket.id.between(lowest.scalar_subquery(), top),
                            literal_column("+tickets.id").in_(batch_tickets(batch)))
    else:
        passing = ids.where(Ticket.id.in_(batch_tickets(batch)))
    end = select(func.min(batch.c.r), func.count(), null())
    return end.union_all(passing.with_only_columns(null(), null(), Ticket.id))
