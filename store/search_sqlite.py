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

A filter with an index of its own that leaves few tickets (an assignee, a customer) would
reject most matches: after the first batch the search goes by the filter's own tickets, range
by range (``Sqlite.by_filter``), each range's matches intersected with them inside SQLite.
"""
from __future__ import annotations

import math
import re

from sqlalchemy import (Column, Integer, String, bindparam, column, func, literal_column, null,
                        select, text)
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators, visitors

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
# Filters served by an index of their own that leave few tickets (an assignee holds one ticket
# in 200, a customer a few): after a first batch came up short, the search goes by the filter's
# tickets (``Sqlite.by_filter``): the next so many of them (read from the filter's index alone)
# and the matches in their range of ticket ids (``SQLITE_RANGE``) are intersected inside SQLite,
# and only the tickets in both are looked up. Looking up every match read 200 times more rows
# than pass; walking the filter's index over each batch's range and checking each ticket
# against the batch's matches cost 0.6 us a match (the matches stored twice, as a batch and
# as a temporary index).
SPARSE_FILTERS = {"assignee", "customer_id"}
FILTER_INDEX_COLUMNS = {"workspace_id", "assignee", "customer_id", "id"}
SQLITE_RANGE = ("SELECT rowid AS r FROM ticket_text WHERE ticket_text MATCH :phrase "
                "AND rowid >= :low AND rowid < :high")
# A ticket's own rowids probed (the last few tickets of a filter: a customer's three).
SQLITE_PROBE = text(f"EXISTS (SELECT 1 FROM ticket_text WHERE ticket_text MATCH :phrase "
                    f"AND rowid >= tickets.id << {TICKET_SHIFT} "
                    f"AND rowid < (tickets.id + 1) << {TICKET_SHIFT})")
WORD = re.compile(r"[^\W_]+")  # about what FTS5's unicode61 takes for a word (a guess suffices)


# A batch's rows (``r``), read once by FTS5 however often a statement uses them (the values of
# :phrase, :below and :batch come with the statement's execution).
BATCH = (text(SQLITE_BATCH)
         .bindparams(bindparam("phrase", type_=String), bindparam("below", type_=Integer),
                     bindparam("batch", type_=Integer))
         .columns(column("r", Integer)).cte("batch").prefix_with("MATERIALIZED"))
BATCH_TICKET = BATCH.c.r.op(">>")(literal_column(str(TICKET_SHIFT)))
# A batch's lowest rowid, row count and ticket count (or none), in a row with no ticket.
BATCH_END = {count_tickets: select(func.min(BATCH.c.r), func.count(),
                                   func.count(BATCH_TICKET.distinct()) if count_tickets else null(),
                                   null())
             for count_tickets in (False, True)}


class Sqlite:
    FIRST_BATCH = 256      # matching rows read first (a phrase of several words: fewer)
    LARGEST_BATCH = 16_384
    GROWTH = 4             # a batch after one in which no ticket passed: this many times larger
    SLACK = 1.25           # a next batch holds this many times the rows the density asks
    LARGEST_SPAN = 65_536  # a sparse filter's tickets looked at in one range, at most
    # A ticket probed on its own against a match read in a range (a million tickets: about
    # 10 us against 0.2 us).
    PROBE_COST = 50

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
        quoted = cls.quoted(phrase)
        below, batch = (top + 1) << TICKET_SHIFT, cls.first_batch(phrase, wanted)
        found, read = {}, 0
        while True:
            lowest, count, tickets, passing = cls.read_batch(
                session, ids, {"phrase": quoted, "below": below, "batch": batch}, sparse)
            found.update(dict.fromkeys(sorted(passing, reverse=True)))
            if len(found) >= wanted or count < batch:
                return list(found)[:wanted]
            if sparse:
                share = tickets / (top - (lowest >> TICKET_SHIFT) + 1)  # of tickets matching
                return list(found) + cls.by_filter(session, ids, quoted, lowest >> TICKET_SHIFT,
                                                   wanted - len(found), share)
            read += count
            below, batch = lowest, cls.next_batch(batch, read, len(found), wanted)

    @staticmethod
    def read_batch(session: Session, ids, params: dict,
                   count_tickets: bool) -> tuple[int, int, int | None, list[int]]:
        """One batch in one statement: its lowest rowid, rows, tickets (if ``count_tickets``)
        and passing tickets."""
        end, passing = None, []
        statement = batch_statement(ids, count_tickets)
        for lowest, count, tickets, ticket in session.execute(statement, params):
            if ticket is None:
                end = (lowest, count, tickets)
            else:
                passing.append(ticket)
        return (*end, passing)

    @classmethod
    def by_filter(cls, session: Session, ids, quoted: str, below: int, wanted: int,
                  share: float) -> list[int]:
        """The ``wanted`` newest tickets of ``ids`` under ticket ``below`` that match, newest
        first, range by range of the filter's own tickets: each range holds the tickets the
        rest of the page needs at the ``share`` of them that match (as seen so far), with
        slack; the last few tickets are probed one by one when that costs less than reading
        all the matches below them."""
        own = filter_index_query(ids)
        found, looked = [], 0
        while True:
            span = min(math.ceil(wanted / share * cls.SLACK), cls.LARGEST_SPAN)
            low = session.scalar(own.where(Ticket.id < below).order_by(Ticket.id.desc())
                                 .offset(span - 1).limit(1))
            if low is None:  # fewer than that left: the rest at once
                left = session.scalar(select(func.count()).select_from(
                    own.where(Ticket.id < below).limit(span).subquery()))
                if left * cls.PROBE_COST < below * share:  # a customer's few: each probed
                    return found + cls.walk(session, ids, quoted, below, wanted)
                low = 0
            passing = sorted(session.scalars(range_statement(ids, own, quoted, low, below)),
                             reverse=True)
            found += passing[:wanted]
            wanted -= len(passing)
            if wanted <= 0 or not low:
                return found
            looked += span
            share = len(found) / looked if found else share / cls.GROWTH
            below = low

    @staticmethod
    def walk(session: Session, ids, quoted: str, below: int, wanted: int) -> list[int]:
        """The ``wanted`` newest tickets of ``ids`` under ``below`` that match, newest first:
        the filter's index walked, each ticket probed in FTS5 (its own rowids' range)."""
        return list(session.scalars(ids.where(Ticket.id < below,
                                              SQLITE_PROBE.bindparams(phrase=quoted))
                                    .order_by(Ticket.id.desc()).limit(wanted)))


def batch_statement(ids, count_tickets: bool = False):
    """A batch's lowest rowid, row count and (``count_tickets``) ticket count (a row with no
    ticket), then the tickets of ``ids`` among its matches (a row each): the matches go into a
    temporary index and each of their tickets is looked up. Executed with the values of
    :phrase, :below and :batch."""
    passing = ids.where(Ticket.id.in_(select(BATCH_TICKET)))
    return BATCH_END[count_tickets].union_all(passing.with_only_columns(null(), null(), null(),
                                                                       Ticket.id))


def filter_index_query(ids):
    """The ticket ids of ``ids`` by its conditions on the columns of the filters' own indexes
    alone (more tickets than ``ids``: no row of the table read), not correlated with an outer
    query on tickets."""
    where = ids.whereclause
    clauses = where.clauses if getattr(where, "operator", None) is operators.and_ else [where]
    own = [c for c in clauses if {col.key for col in visitors.iterate(c) if isinstance(col, Column)
                                  and col.table is Ticket.__table__} <= FILTER_INDEX_COLUMNS]
    return select(Ticket.id).where(*own).correlate(None)


def range_statement(ids, own, quoted: str, low: int, below: int):
    """The tickets of ``ids`` from ``low`` to under ``below`` that match: the matches in that
    range whose tickets ``own`` holds (from its index), each of those looked up."""
    rows = (text(SQLITE_RANGE).bindparams(phrase=quoted, low=low << TICKET_SHIFT,
                                          high=below << TICKET_SHIFT)
            .columns(column("r", Integer)).subquery("range_rows"))
    ticket = rows.c.r.op(">>")(literal_column(str(TICKET_SHIFT)))
    filtered = own.where(Ticket.id >= low, Ticket.id < below)
    return ids.where(Ticket.id >= low, Ticket.id < below,
                     Ticket.id.in_(select(ticket).where(ticket.in_(filtered))))
