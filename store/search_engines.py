"""The two full-text engines behind ``store.search``, each answering two questions in SQL:

- ``matching_among(ids)``: which of these tickets (a chunk of the filtered list) match;
- ``rare_matches(most)``: every matching ticket, when at most ``most`` messages and as many
  subjects match; None otherwise.

SQLite: external-content FTS5 tables ``message_search`` (rowid = message id) and
``ticket_search`` (rowid = ticket id). Looking up one rowid in FTS5 costs up to a tenth of a
millisecond (a seek in every segment), stepping through its matches a fraction of a
microsecond: a chunk is checked by stepping through the matches between its tickets' oldest
and newest message and keeping those of its tickets.
PostgreSQL: the generated ``messages.search_vector`` and an expression over
``tickets.subject``, both with a GIN index; the planner combines them with the ticket id
B-trees, planning each chunk for its own ids and phrase (custom plans).
"""
from __future__ import annotations

import json

from sqlalchemy import (BigInteger, bindparam, column, func, literal_column, select, table,
                        text, union)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from store.models import Message, Ticket

MESSAGE_FTS = table("message_search", column("rowid"))
MESSAGES = Message.__table__
NARROW_MESSAGES = text("messages INDEXED BY ix_messages_search_ticket")
TICKET_FTS = table("ticket_search", column("rowid"))
# The objects migration 0007 made that the models do not describe (the engine owns them).
ENGINE_TABLES = ("message_search", "ticket_search")  # SQLite FTS5 tables and their shadows
ENGINE_COLUMNS = (("messages", "search_vector"),)     # PostgreSQL generated column
ENGINE_INDEXES = ("ix_messages_search", "ix_tickets_search", "ix_messages_search_ticket")
# PostgreSQL: the subject document exactly as its index holds it (the planner matches text).
PG_SUBJECT_VECTOR = ("to_tsvector('simple'::regconfig, regexp_replace(left({table}.subject, "
                     "100000), '[[:punct:]]', ' ', 'g'))")
PG_MESSAGE_VECTOR = literal_column("messages.search_vector")
PG_SIMPLE = literal_column("'simple'::regconfig")


def of(session: Session):
    return Postgres if session.get_bind().dialect.name == "postgresql" else Sqlite


def not_engine_object(obj, name: str, kind: str, _reflected, _compare_to) -> bool:
    """Alembic's ``include_object``: False for the engines' own tables, column and indexes,
    which the models do not describe (schema comparisons leave them alone)."""
    if kind == "table":
        return not name.startswith(ENGINE_TABLES)
    if kind == "column":
        return (obj.table.name, name) not in ENGINE_COLUMNS
    return not (kind == "index" and name in ENGINE_INDEXES)


class Sqlite:
    RARE_MATCHES = 3_000  # this many matching messages (and subjects) are always worth collecting
    # Collecting a match (a step in FTS5 and a lookup in a narrow index) costs about a third of
    # checking a ticket of a chunk (its messages' ids, a step through the matches among them).
    MATCHES_PER_TICKET = 3

    @staticmethod
    def matching(fts, phrase):
        """``fts MATCH`` the phrase as one quoted FTS5 string (its syntax characters inert)."""
        quoted = '"' + phrase.text.replace('"', '""') + '"' + (" *" if phrase.prefix else "")
        return literal_column(fts.name).op("MATCH")(quoted)

    @staticmethod
    def listed(ids: list[int]):
        """``ids`` as a one-parameter subquery (a chunk may hold thousands)."""
        return select(literal_column("value")).select_from(
            func.json_each(json.dumps(ids)).table_valued("value"))

    @classmethod
    def matching_among(cls, session: Session, phrase, ids: list[int]) -> list[int]:
        if not ids:
            return []
        chunk = cls.listed(ids)
        oldest, newest = session.execute(select(func.min(Message.id), func.max(Message.id))
                                         .where(Message.ticket_id.in_(chunk))).one()
        # "+rowid": a filter on each match, not a lookup per id (FTS5 sees only the range)
        subjects = select(TICKET_FTS.c.rowid).where(
            cls.matching(TICKET_FTS, phrase), TICKET_FTS.c.rowid.between(min(ids), max(ids)),
            literal_column("+ticket_search.rowid").in_(chunk))
        if oldest is None:
            return list(session.scalars(subjects))
        hits = select(MESSAGE_FTS.c.rowid).where(
            cls.matching(MESSAGE_FTS, phrase), MESSAGE_FTS.c.rowid.between(oldest, newest),
            literal_column("+message_search.rowid").in_(  # plain columns, see core_scalars
                select(MESSAGES.c.id).where(MESSAGES.c.ticket_id.in_(chunk))))
        return core_scalars(session, union(cls.tickets_of(hits), subjects))

    @classmethod
    def rare_matches(cls, session: Session, phrase, most: int) -> list[int] | None:
        for fts in (MESSAGE_FTS, TICKET_FTS):
            first = select(fts.c.rowid).where(cls.matching(fts, phrase)).limit(most + 1)
            if session.scalar(select(func.count()).select_from(first.subquery())) > most:
                return None
        messages = select(MESSAGE_FTS.c.rowid).where(cls.matching(MESSAGE_FTS, phrase))
        subjects = select(TICKET_FTS.c.rowid).where(cls.matching(TICKET_FTS, phrase))
        return core_scalars(session, union(cls.tickets_of(messages), subjects))

    @staticmethod
    def tickets_of(message_ids):
        """The tickets of these messages through the narrow ``(id, ticket_id)`` index, not the
        wide message rows (a random page of a table of gigabytes each). Written out: SQLAlchemy
        renders no table hint for SQLite, and the planner prefers the rowid."""
        return select(literal_column("ticket_id")).select_from(NARROW_MESSAGES).where(
            literal_column("id").in_(message_ids))


def core_scalars(session: Session, query) -> list:
    """Run ``query``, built of plain table columns, as plain SQL: the ORM's compiler (which
    any mapped attribute in it brings in) refuses the textual ``FROM`` of
    ``Sqlite.tickets_of``."""
    return list(session.connection().execute(query).scalars())


def custom_plans(session: Session) -> None:
    """Plan each chunk for its own ids and phrase, once per transaction: a generic plan
    (psycopg prepares a statement run five times) would guess both and keep one way for all."""
    transaction = session.get_transaction()
    if session.info.get("custom_plans") is not transaction:
        session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"))
        session.info["custom_plans"] = transaction


class Postgres:
    RARE_MATCHES = 1_000
    # A match collected through the GIN index is a heap page fetched at random (the messages of
    # a chunk lie together): checking a ticket of a chunk costs about half a collected match.
    MATCHES_PER_TICKET = 0.5

    @staticmethod
    def tsquery(phrase):
        """``phraseto_tsquery`` of the phrase, its last word a prefix when asked for."""
        def words(value: str):
            return func.regexp_replace(value, "[[:punct:]]", " ", "g")
        if not phrase.prefix:
            return func.phraseto_tsquery(PG_SIMPLE, words(phrase.text))
        head = func.phraseto_tsquery(PG_SIMPLE, words(phrase.text[:-len(phrase.last_word)]))
        tail = func.to_tsquery(PG_SIMPLE, f"'{phrase.last_word}':*")  # letters and digits only
        return func.tsquery_phrase(head, tail)

    @classmethod
    def matches(cls, phrase, message_filter, ticket_filter):
        """Tickets whose messages or subject match, among those the filters let through."""
        query = cls.tsquery(phrase)
        titled = aliased(Ticket, name="titled")
        subject = literal_column(PG_SUBJECT_VECTOR.format(table="titled"))
        return union(
            select(Message.ticket_id).where(*message_filter(Message.ticket_id),
                                            PG_MESSAGE_VECTOR.op("@@")(query)),
            select(titled.id).where(*ticket_filter(titled.id), subject.op("@@")(query)))

    @classmethod
    def matching_among(cls, session: Session, phrase, ids: list[int]) -> list[int]:
        if not ids:
            return []
        custom_plans(session)
        listed = bindparam("chunk", ids, type_=ARRAY(BigInteger))
        # "= ANY" alone: with a BETWEEN of the chunk's bounds beside it the planner multiplied
        # both selectivities, expected a row or two, and read every message of the chunk
        # (26,000 rows of 8,192 tickets at a million: 50-180 ms) where the GIN index ANDed
        # with the ticket ids finds the few that match (docs/search.md).
        def among(c):
            return (c == func.any(listed),)
        return list(session.scalars(cls.matches(phrase, among, among)))

    @classmethod
    def rare_matches(cls, session: Session, phrase, most: int) -> list[int] | None:
        """Messages: judged by the planner's estimate (from the column statistics ANALYZE
        keeps, 10,000 words), which counts the messages holding all the words: those the GIN
        index hands over to be checked; counting them would cost as much as collecting them.
        Subjects: counted, at most ``most + 1``. Their statistics know only the few dozen words
        of many subjects and put every other word, an order number or a word in no subject at
        all, at the default half percent of the tickets (5,000 of a million): judged by that,
        no rare phrase was ever collected and a search for one walked the whole store in
        chunks (9 s at a million)."""
        query = cls.tsquery(phrase)
        messages = select(Message.id).where(PG_MESSAGE_VECTOR.op("@@")(query))
        if cls.estimated_rows(session, messages) > most:
            return None
        subject = literal_column(PG_SUBJECT_VECTOR.format(table="tickets"))
        subjects = select(Ticket.id).where(subject.op("@@")(query)).limit(most + 1)
        if session.scalar(select(func.count()).select_from(subjects.subquery())) > most:
            return None
        return list(session.scalars(cls.matches(phrase, lambda c: (), lambda c: ())))

    @staticmethod
    def estimated_rows(session: Session, query) -> float:
        compiled = query.compile(dialect=session.get_bind().dialect)
        plan = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}",
                                                    compiled.params)
        return plan.scalar()[0]["Plan"]["Plan Rows"]
