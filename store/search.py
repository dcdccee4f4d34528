"""Full-text search of tickets through the database's own engine: SQLite FTS5, PostgreSQL
tsvector with a GIN index (both made by migration 0007 and kept current by the store itself).

What ``q`` matches (docs/api.md): tickets whose subject or any message text contains the
words of ``q`` next to each other, in that order; case is folded, punctuation only separates
words; a last word of at least ``PREFIX_MIN`` characters also matches longer words it begins
(``invoi`` finds "invoice", ``100`` finds "1000", but ``100%`` only "100"). Text is handed to
the engine as one quoted phrase (FTS5) or through ``phraseto_tsquery`` (PostgreSQL), so no
character of ``q`` is ever query syntax.

How a page is found: a ticket matches through its own subject or any of its messages, and the
list is newest ticket first. When few messages match, the matching ticket ids are collected
from the index and the page taken from them; when many match, the tickets are walked newest
first (with the other filters) and each checked against the index until the page is full. A
capped count of the matches decides which (``PROBE_CAP``): each way costs at most a few
thousand index lookups.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import column, exists, false, func, literal_column, select, table, union
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from store.models import Message, Ticket

PREFIX_MIN = 3          # characters; a shorter last word matches whole words only
PROBE_CAP = 3_000       # matching messages up to which the matching tickets are collected
WORD_CHAR = re.compile(r"[^\W_]")           # a letter or a digit
LAST_WORD = re.compile(r"[^\W_]+$")
# The objects migration 0007 made that the models do not describe (the engine owns them).
ENGINE_TABLES = ("message_search", "ticket_search")  # SQLite FTS5 tables and their shadows
ENGINE_COLUMNS = (("messages", "search_vector"),)     # PostgreSQL generated column
ENGINE_INDEXES = ("ix_messages_search", "ix_tickets_search")
MESSAGE_FTS = table("message_search", column("rowid"))
TICKET_FTS = table("ticket_search", column("rowid"))
# PostgreSQL: the documents exactly as the indexes hold them (the planner matches text).
PG_MESSAGE_VECTOR = literal_column("messages.search_vector")
PG_SUBJECT_VECTOR = ("to_tsvector('simple'::regconfig, regexp_replace(left({table}.subject, "
                     "100000), '[[:punct:]]', ' ', 'g'))")


@dataclass(frozen=True)
class Phrase:
    """``q`` as the search engine will read it."""
    text: str
    prefix: bool  # the last word also matches longer words it begins


def parse(q: str) -> Phrase | None:
    """The phrase ``q`` asks for; None when it holds no letter or digit (it matches nothing)."""
    if not WORD_CHAR.search(q):
        return None
    last = LAST_WORD.search(q)
    return Phrase(q, prefix=last is not None and len(last.group()) >= PREFIX_MIN)


def restrict(session: Session, query: Select, q: str) -> Select:
    """``query`` (tickets with the list's other filters) narrowed to the tickets ``q``
    matches; the caller orders it newest first and takes a page."""
    phrase = parse(q)
    if phrase is None:
        return query.where(false())
    engine = _engine(session)
    if engine.few_matches(session, phrase):
        return query.where(Ticket.id.in_(engine.matching_ticket_ids(phrase)))
    return query.where(engine.ticket_matches(phrase))


def not_engine_object(obj, name: str, kind: str, _reflected, _compare_to) -> bool:
    """Alembic's ``include_object``: False for the search engine's own tables, column and
    indexes, which the models do not describe (schema comparisons leave them alone)."""
    if kind == "table":
        return not name.startswith(ENGINE_TABLES)
    if kind == "column":
        return (obj.table.name, name) not in ENGINE_COLUMNS
    return not (kind == "index" and name in ENGINE_INDEXES)


def _engine(session: Session):
    return _Postgres if session.get_bind().dialect.name == "postgresql" else _Sqlite


class _Sqlite:
    """FTS5: ``message_search`` (rowid = message id), ``ticket_search`` (rowid = ticket id)."""

    @staticmethod
    def expression(phrase: Phrase) -> str:
        return '"' + phrase.text.replace('"', '""') + '"' + (" *" if phrase.prefix else "")

    @classmethod
    def matching(cls, fts, phrase: Phrase):
        return literal_column(fts.name).op("MATCH")(cls.expression(phrase))

    @classmethod
    def few_matches(cls, session: Session, phrase: Phrase) -> bool:
        found = select(MESSAGE_FTS.c.rowid).where(cls.matching(MESSAGE_FTS, phrase)) \
            .limit(PROBE_CAP).subquery()
        return session.scalar(select(func.count()).select_from(found)) < PROBE_CAP

    @classmethod
    def matching_ticket_ids(cls, phrase: Phrase):
        messages = select(MESSAGE_FTS.c.rowid).where(cls.matching(MESSAGE_FTS, phrase))
        return union(select(Message.ticket_id).where(Message.id.in_(messages)),
                     select(TICKET_FTS.c.rowid).where(cls.matching(TICKET_FTS, phrase)))

    @classmethod
    def ticket_matches(cls, phrase: Phrase):
        in_subject = exists().where(cls.matching(TICKET_FTS, phrase),
                                    TICKET_FTS.c.rowid == Ticket.id)
        in_messages = exists().where(Message.ticket_id == Ticket.id,
                                     MESSAGE_FTS.c.rowid == Message.id,
                                     cls.matching(MESSAGE_FTS, phrase))
        return in_subject | in_messages


class _Postgres:
    """``messages.search_vector`` (GIN) and the GIN expression index over the subject."""

    @staticmethod
    def tsquery(phrase: Phrase):
        def words(text):
            return func.regexp_replace(text, "[[:punct:]]", " ", "g")
        if not phrase.prefix:
            return func.phraseto_tsquery(literal_column("'simple'::regconfig"), words(phrase.text))
        last = LAST_WORD.search(phrase.text)
        head = func.phraseto_tsquery(literal_column("'simple'::regconfig"),
                                     words(phrase.text[:last.start()]))
        tail = func.to_tsquery(literal_column("'simple'::regconfig"), f"'{last.group()}':*")
        return func.tsquery_phrase(head, tail)

    @classmethod
    def few_matches(cls, session: Session, phrase: Phrase) -> bool:
        found = select(Message.id).where(PG_MESSAGE_VECTOR.op("@@")(cls.tsquery(phrase))) \
            .limit(PROBE_CAP).subquery()
        return session.scalar(select(func.count()).select_from(found)) < PROBE_CAP

    @classmethod
    def matching_ticket_ids(cls, phrase: Phrase):
        query = cls.tsquery(phrase)
        titled = aliased(Ticket, name="titled")
        subject = literal_column(PG_SUBJECT_VECTOR.format(table="titled"))
        return union(select(Message.ticket_id).where(PG_MESSAGE_VECTOR.op("@@")(query)),
                     select(titled.id).where(subject.op("@@")(query)))

    @classmethod
    def ticket_matches(cls, phrase: Phrase):
        query = cls.tsquery(phrase)
        in_messages = exists(select(Message.id).where(Message.ticket_id == Ticket.id,
                                                      PG_MESSAGE_VECTOR.op("@@")(query)))
        subject = literal_column(PG_SUBJECT_VECTOR.format(table="tickets"))
        return subject.op("@@")(query) | in_messages
