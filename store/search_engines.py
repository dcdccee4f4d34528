"""The two full-text engines behind ``store.search``, each answering one question in SQL: the
``wanted`` newest tickets of a filtered ticket query (``ids``) that match a phrase.

Both keep one full-text entry per ticket (migration 0017), kept current by triggers:

SQLite: a contentless FTS5 table ``ticket_text`` whose rowids order by ticket (``ticket_id *
2**32`` for the subject, ``+ 1 + (message_id - 1) % (2**32 - 1)`` for each message; a phrase
stays within one of them). FTS5 returns a phrase's matches in descending rowid order natively
(``ORDER BY rowid DESC``), stepping through its doclists at a fraction of a microsecond a
match: the matches are read newest ticket first in batches that grow fourfold, and each
batch's tickets are checked against the filters by id inside SQLite (no row of the batch
reaches Python but those that pass), until the page is full.

PostgreSQL: a side table ``ticket_documents`` with every word of a ticket's subject and
messages (a ``tsvector`` without positions) and a GIN index. By the planner's estimate of how
many documents hold the words (``Postgres.collect``), either the tickets holding them are
collected from the GIN index and looked up by id, newest first, or the filtered tickets are
walked newest first through the list's own index and each one's document is checked (a scalar
subquery per ticket: as a join, the planner merged whole walks of the documents). A phrase of
several words is then checked exactly against the ticket's subject and each of its messages'
``search_vector`` (0012), for the tickets that hold all its words. Tickets whose words
outgrew a document (``complete`` false: a hostile or enormous ticket, see 0017) are checked
message by message.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, bindparam, column, exists, func, literal,
                        literal_column, or_, select, table, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from store.models import Message, Ticket

TICKET_SHIFT = 32  # a ticket's FTS5 rowids are ticket_id << 32 and the 2**32 - 1 after it
DOCUMENTS = table("ticket_documents", column("ticket_id"), column("document"),
                  column("complete"))
# The objects the migrations made that the models do not describe (the engine owns them).
ENGINE_TABLES = ("ticket_text", "ticket_documents")  # SQLite FTS5 (and shadows), PG side table
ENGINE_COLUMNS = (("messages", "search_vector"),)     # PostgreSQL generated column
ENGINE_INDEXES = ()
# PostgreSQL: a subject's words exactly as 0012 indexed them (the phrase check).
PG_SUBJECT_VECTOR = ("to_tsvector('simple'::regconfig, regexp_replace(left({table}.subject, "
                     "100000), '[[:punct:]]', ' ', 'g'))")
PG_MESSAGE_VECTOR = literal_column("messages.search_vector")
PG_SIMPLE = literal_column("'simple'::regconfig")
# Filling the index of a store loaded without its triggers (bench/store_writers.py; migration
# 0017 does the same): SQLite in two ascending rowid runs, PostgreSQL every document at once.
SQLITE_FILL = (
    "INSERT INTO ticket_text(rowid, text) SELECT id << 32, subject FROM tickets ORDER BY id",
    "INSERT INTO ticket_text(rowid, text) SELECT (ticket_id << 32) + (id - 1) % 4294967295 + 1, "
    "text FROM messages INDEXED BY ix_messages_ticket_id ORDER BY ticket_id, id",
    "INSERT INTO ticket_text(ticket_text) VALUES ('optimize')")
PG_FILL = (
    "INSERT INTO ticket_documents (ticket_id, document, bytes, complete) "
    "SELECT t.id, ticket_document_add(s.v, coalesce(m.document, '')), "
    "pg_column_size(s.v) + coalesce(m.bytes, 0), "
    "pg_column_size(s.v) + coalesce(m.bytes, 0) < 900000 "
    "FROM tickets t CROSS JOIN LATERAL (SELECT strip(" + PG_SUBJECT_VECTOR.format(table="t")
    + ") AS v) s LEFT JOIN (SELECT ticket_id, "
    "ticket_document_agg(strip(search_vector) ORDER BY id) AS document, "
    "sum(pg_column_size(strip(search_vector))) AS bytes FROM messages GROUP BY ticket_id) m "
    "ON m.ticket_id = t.id")
# A batch: the next ``batch`` matching rows below ``below``, newest ticket first.
SQLITE_BATCH = ("SELECT rowid AS r FROM ticket_text WHERE ticket_text MATCH :phrase "
                "AND rowid < :below ORDER BY rowid DESC LIMIT :batch")
SQLITE_BATCH_TICKETS = text(f"SELECT r >> {TICKET_SHIFT} FROM ({SQLITE_BATCH})")
# Filters served by an index of their own that leave few tickets: after a first batch came up
# short, each batch is checked by walking the filter's index over the batch's range of ticket
# ids (an assignee holds one ticket in 200; looking up every match read 5 times more rows).
SPARSE_FILTERS = {"assignee", "customer_id"}
SQLITE_BATCH_END = text(f"SELECT min(r), count(*) FROM ({SQLITE_BATCH})")


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


def custom_plans(session: Session) -> None:
    """Plan each search for its own phrase, once per transaction: a generic plan (psycopg
    prepares a statement run five times) would guess how many tickets hold the words."""
    transaction = session.get_transaction()
    if session.info.get("custom_plans") is not transaction:
        session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"))
        session.info["custom_plans"] = transaction


def _words(value: str):
    return func.regexp_replace(value, "[[:punct:]]", " ", "g")


class Postgres:
    # A word the statistics do not know (not among the 10,000 most frequent) is estimated at
    # half the least frequent known one: a few hundred documents of a million. That many are
    # collected from the GIN index and looked up by id, newest first; the planner, left to
    # itself, merged them with a walk of every ticket newest first (0.5 s for an order number).
    RARE_DOCUMENTS = 5_000      # collected rather than walked (Postgres.collect)
    PHRASE_DOCUMENTS = 50_000   # tickets holding every word of a phrase: always collected
    SLICE = 512
    @staticmethod
    def tsquery(phrase):
        """``phraseto_tsquery`` of the phrase, its last word a prefix when asked for."""
        if not phrase.prefix:
            return func.phraseto_tsquery(PG_SIMPLE, _words(phrase.text))
        head = func.phraseto_tsquery(PG_SIMPLE, _words(phrase.text[:-len(phrase.last_word)]))
        tail = func.to_tsquery(PG_SIMPLE, f"'{phrase.last_word}':*")  # letters and digits only
        return func.tsquery_phrase(head, tail)

    @staticmethod
    def all_words(phrase):
        """The phrase's words in any order and place: what a document without positions can
        answer."""
        if not phrase.prefix:
            return func.plainto_tsquery(PG_SIMPLE, _words(phrase.text))
        head = func.plainto_tsquery(PG_SIMPLE, _words(phrase.text[:-len(phrase.last_word)]))
        return head.op("&&")(func.to_tsquery(PG_SIMPLE, f"'{phrase.last_word}':*"))

    @classmethod
    def exactly(cls, phrase):
        """The ticket's subject or one of its messages holds the phrase, checked per ticket.
        ``OFFSET 0`` keeps the planner from turning the ``EXISTS`` (under an ``OR``) into a
        hashed subplan: it misjudges how many messages hold a phrase of common words (tens
        of thousands estimated, hundreds true) and read every message of the store to hash
        them (1.8 s at a million) where a few hundred tickets wanted checking."""
        query = cls.tsquery(phrase)
        subject = literal_column(PG_SUBJECT_VECTOR.format(table="tickets"))
        return or_(subject.op("@@")(query),
                   exists(select(literal(1)).select_from(Message.__table__).where(
                       Message.__table__.c.ticket_id == Ticket.id,
                       PG_MESSAGE_VECTOR.op("@@")(query)).offset(0)))

    @classmethod
    def newest_matches(cls, session: Session, ids, phrase, wanted: int) -> list[int]:
        custom_plans(session)
        one_word = session.scalar(select(func.numnode(cls.tsquery(phrase)))) <= 1
        exact = () if one_word else (cls.exactly(phrase),)
        holding = DOCUMENTS.c.document.op("@@")(cls.all_words(phrase))
        documents = select(DOCUMENTS.c.ticket_id).where(holding)
        if cls.collect(session, documents, one_word):
            found = cls._newest_of(session, ids, sorted(session.scalars(documents),
                                                       reverse=True), exact, wanted)
        else:
            # a scalar subquery per ticket, which the planner cannot turn into a join: the
            # filtered tickets are walked newest first and each one's document checked
            own_document = (select(holding).where(DOCUMENTS.c.ticket_id == Ticket.id)
                            .scalar_subquery())
            found = list(session.scalars(ids.where(own_document, *exact)
                                         .order_by(Ticket.id.desc()).limit(wanted)))
        incomplete = (ids.where(Ticket.id.in_(select(DOCUMENTS.c.ticket_id).where(
                          ~DOCUMENTS.c.complete)), cls.exactly(phrase))
                      .order_by(Ticket.id.desc()).limit(wanted))
        found = set(found) | set(session.scalars(incomplete))
        return sorted(found, reverse=True)[:wanted]

    @classmethod
    def collect(cls, session: Session, documents, one_word: bool) -> bool:
        """Whether to collect the tickets holding the words from the GIN index (m of them, a
        heap page each, about 20 us at a million) rather than walk the filtered tickets newest
        first and check each one's document (about wanted * N / m of them, 10 us each): by
        the planner's estimate of m, up to ``RARE_DOCUMENTS``. A phrase of several words is
        checked exactly only where all its words are, so a walk would step over every ticket
        holding them but not the phrase (seconds for a phrase of two common words that is
        rare as a phrase): up to ``PHRASE_DOCUMENTS`` such tickets are collected instead."""
        holding = cls.estimated_rows(session, documents)
        return holding <= (cls.RARE_DOCUMENTS if one_word else cls.PHRASE_DOCUMENTS)

    @staticmethod
    def _newest_of(session: Session, ids, candidates: list[int], exact: tuple,
                   wanted: int) -> list[int]:
        """The ``wanted`` newest of ``candidates`` (newest first) that pass the filters and
        hold the phrase, looked up by id a slice at a time."""
        found: list[int] = []
        for start in range(0, len(candidates), Postgres.SLICE):
            chunk = bindparam("chunk", candidates[start:start + Postgres.SLICE],
                              type_=ARRAY(BigInteger))
            found += session.scalars(ids.where(Ticket.id == func.any(chunk), *exact)
                                     .order_by(Ticket.id.desc()).limit(wanted - len(found)))
            if len(found) >= wanted:
                break
        return found

    @staticmethod
    def estimated_rows(session: Session, query) -> float:
        compiled = query.compile(dialect=session.get_bind().dialect)
        plan = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}",
                                                    compiled.params)
        return plan.scalar()[0]["Plan"]["Plan Rows"]
