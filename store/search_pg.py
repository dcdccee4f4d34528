"""The PostgreSQL full-text engine behind ``store.search`` (migrations 0012, 0017 and 0019):
the ``wanted`` newest tickets of a filtered ticket query that match a phrase.

A side table ``ticket_documents`` with every word of a ticket's subject and messages (a
``tsvector`` without positions) and their word pairs, each with a GIN index. By a cost model
over the planner's estimates of how many documents hold the words and how many tickets pass the
filters (``Postgres.way``), either the filtered tickets are walked newest first through the
list's own index and each one's document is checked (a scalar subquery per ticket: as a join,
the planner merged whole walks of the documents), or the tickets holding the words are read
from the GIN index a range of ticket ids at a time, newest range first (ANDed with the primary
key's range: only that range's documents are read), or all at once, and looked up among the
filtered tickets. A phrase of several words is asked of the ticket's adjacent word pairs
(``ticket_documents.pairs``, migration 0019: ``~a b`` for each two words next to each other in
its subject or in one of its messages), which answer a phrase of two words exactly; a longer
phrase is then checked exactly against the ticket's subject and each of its messages'
``search_vector`` (0012), a slice of the tickets that hold all its pairs at a time. Tickets
whose words outgrew a document (``complete`` false: a hostile or enormous ticket, see 0017 and
0019) are checked message by message.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, bindparam, cast, column, exists, func, literal,
                        literal_column, or_, select, table, text)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.orm import Session

from store.models import Message, Ticket

DOCUMENTS = table("ticket_documents", column("ticket_id"), column("document"),
                  column("pairs"), column("complete"))
# A subject's words exactly as 0012 indexed them (the phrase check).
PG_SUBJECT_VECTOR = ("to_tsvector('simple'::regconfig, regexp_replace(left({table}.subject, "
                     "100000), '[[:punct:]]', ' ', 'g'))")
PG_MESSAGE_VECTOR = literal_column("messages.search_vector")
PG_SIMPLE = literal_column("'simple'::regconfig")
# Filling the index of a store loaded without its triggers (bench/store_writers.py; migration
# 0019 does the same): every document and its word pairs at once (``ticket_pairs``, 0019).
PAIR_CHARS = 500  # a longer pair is cut in the documents (0019): such a phrase falls back
DOCUMENT_BYTES = 900_000  # a document past this is incomplete (0017, 0019)
PG_PAIRS_SIZE = f"coalesce(pg_column_size(pairs), {DOCUMENT_BYTES})"  # none: incomplete
PG_FILL = (
    "INSERT INTO ticket_documents (ticket_id, document, pairs, bytes, complete) "
    "SELECT t.id, ticket_document_add(s.words, coalesce(m.document, '')), "
    "ticket_document_add(s.pairs, coalesce(m.pairs, '')), s.bytes + coalesce(m.bytes, 0), "
    f"s.bytes + coalesce(m.bytes, 0) < {DOCUMENT_BYTES} "
    "FROM tickets t CROSS JOIN LATERAL (SELECT words, coalesce(pairs, '') AS pairs, "
    "pg_column_size(words) + " + PG_PAIRS_SIZE + " AS bytes "
    "FROM (SELECT strip(v) AS words, ticket_pairs(v) AS pairs FROM (SELECT "
    + PG_SUBJECT_VECTOR.format(table="t") + " AS v) vector) parts) s "
    "LEFT JOIN (SELECT ticket_id, ticket_document_agg(words ORDER BY id) AS document, "
    "ticket_document_agg(coalesce(pairs, '') ORDER BY id) AS pairs, "
    "sum(pg_column_size(words) + " + PG_PAIRS_SIZE + ") AS bytes "
    "FROM (SELECT ticket_id, id, strip(search_vector) AS words, "
    "ticket_pairs(search_vector) AS pairs FROM messages) part GROUP BY ticket_id) m "
    "ON m.ticket_id = t.id")


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
    """Which side drives a page (``Postgres.way``), by the planner's estimates of how many
    documents hold the words (m) and how many tickets pass the filters (F) of N: the filtered
    tickets walked newest first, each one's document checked (about wanted * N / m checks);
    or the tickets holding the words read from the GIN index, all at once or a range of
    ticket ids at a time, newest range first (the GIN entries ANDed with the primary key's
    range: only the range's documents are read from the heap), each looked up among the
    filtered tickets. Costs per unit measured at a million tickets (``COST_*``, microseconds;
    docs/search.md): a GIN entry read into a bitmap, a document read from the heap, a ticket
    looked up by id, a ticket id of a range's primary key bitmap, a ticket walked and its
    document checked (the walk reads the documents in about the order they are stored)."""
    COST_ENTRY = 0.4
    COST_DOCUMENT = 15.0
    COST_TICKET = 15.0
    COST_RANGE_ID = 0.1
    COST_WALKED = 8.0
    PHRASE_SHARE = 0.02         # of the tickets holding a phrase's words, those holding it
    PAIRS_SHARE = 0.5           # ... holding all of its (three or more words') pairs
    RANGE_SLACK = 2.0           # a range is sized to hold this many times the matches needed
    FIRST_RANGE = 2_048         # ticket ids, at least
    RANGE_GROWTH = 8            # a range at most this many times the one before
    SLICE = 512                 # candidates looked up at a time
    FIRST_EXACT_SLICE = 64      # ... when each is checked for a phrase: then twice as many

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
        """The ticket's subject or one of its messages holds the phrase, checked per ticket
        (the walk). ``OFFSET 0`` keeps the planner from turning the ``EXISTS`` (under an
        ``OR``) into a hashed subplan: it misjudges how many messages hold a phrase of common
        words (tens of thousands estimated, hundreds true) and read every message of the
        store to hash them (1.8 s at a million) where a few hundred tickets wanted checking."""
        query = cls.tsquery(phrase)
        subject = literal_column(PG_SUBJECT_VECTOR.format(table="tickets"))
        return or_(subject.op("@@")(query),
                   exists(select(literal(1)).select_from(Message.__table__).where(
                       Message.__table__.c.ticket_id == Ticket.id,
                       PG_MESSAGE_VECTOR.op("@@")(query)).offset(0)))

    @classmethod
    def newest_matches(cls, session: Session, ids, phrase, wanted: int) -> list[int]:
        custom_plans(session)
        top = session.scalar(ids.order_by(Ticket.id.desc()).limit(1))
        if top is None:
            return []
        holding, exact, share = cls.index_terms(session, phrase)
        documents = estimated_rows(session, select(DOCUMENTS.c.ticket_id).where(holding))
        filtered = estimated_rows(session, ids)
        way, size = cls.way(documents, filtered, top, wanted, share)
        if way == "walk":
            found = cls._walk(session, ids, holding, exact, wanted)
        else:
            found = cls._by_ranges(session, ids, holding, exact, wanted, top, size)
        # tickets whose words outgrew a document (usually none), checked message by message
        incomplete = sorted(session.scalars(select(DOCUMENTS.c.ticket_id).where(
            ~DOCUMENTS.c.complete)), reverse=True)
        found = set(found) | set(cls._newest_of(session, ids, incomplete, phrase, wanted))
        return sorted(found, reverse=True)[:wanted]

    @classmethod
    def index_terms(cls, session: Session, phrase):
        """What the index is asked (a condition on ``ticket_documents``), the phrase to check
        exactly afterwards (None: the index answers it) and the share of the tickets the
        index finds that are expected to match (``way``). One word: the documents holding
        it. Several words: the tickets holding all the phrase's adjacent pairs (0019), which
        for two words are exactly the tickets holding the phrase; a longer phrase is checked
        exactly after. A phrase whose words do not read as one word per position (a
        tokenization ``pair_query`` does not mirror) falls back to all its words."""
        nodes = session.scalar(select(func.numnode(cls.tsquery(phrase))))
        if nodes <= 1:
            return DOCUMENTS.c.document.op("@@")(cls.all_words(phrase)), None, 1.0
        pairs = cls.pair_query(session, phrase, nodes)
        if pairs is None:
            return (DOCUMENTS.c.document.op("@@")(cls.all_words(phrase)), phrase,
                    cls.PHRASE_SHARE)
        query, count = pairs
        holding = DOCUMENTS.c.pairs.op("@@")(cast(bindparam("pairs", query), TSQUERY))
        return (holding, None, 1.0) if count == 1 else (holding, phrase, cls.PAIRS_SHARE)

    @staticmethod
    def pair_query(session: Session, phrase, nodes: int) -> tuple[str, int] | None:
        """The phrase's adjacent word pairs as a ``tsquery`` of ``ticket_pairs`` lexemes
        (``'~a b' & '~b c'``, the last pair a prefix when the last word is), read from the
        phrase's own ``to_tsvector`` as the documents' pairs are from theirs, and how many
        pairs; None unless the phrase is one word per position 1, 2, ... n and its
        ``phraseto_tsquery`` the n words joined by ``<->`` (2n - 1 nodes), and no pair as long
        as ``PAIR_CHARS``."""
        rows = session.execute(text(
            "SELECT lexeme, positions FROM unnest(to_tsvector('simple'::regconfig, "
            "regexp_replace(:phrase, '[[:punct:]]', ' ', 'g')))"), {"phrase": phrase.text}).all()
        at = {position: lexeme for lexeme, positions in rows for position in positions}
        words = [at.get(position) for position in range(1, len(at) + 1)]
        if (sum(len(positions) for _, positions in rows) != len(at) or None in words
                or nodes != 2 * len(words) - 1):
            return None
        pairs = [f"~{a} {b}" for a, b in zip(words, words[1:])]
        if max(len(pair) for pair in pairs) >= PAIR_CHARS:
            return None  # the documents hold such a pair cut short
        pairs = ["'" + pair.replace("\\", "\\\\").replace("'", "''") + "'" for pair in pairs]
        if phrase.prefix:
            pairs[-1] += ":*"
        return " & ".join(pairs), len(pairs)

    @classmethod
    def _walk(cls, session: Session, ids, holding, exact, wanted: int) -> list[int]:
        """The filtered tickets walked newest first, each one's document checked in a scalar
        subquery per ticket (which the planner cannot turn into a join), and for a phrase
        each ticket holding its words checked exactly (``exactly``; measured at a million,
        checking the walk's candidates a slice at a time as ``_holding`` does cost more: the
        walk is one statement, stopped at the page's last match)."""
        own_document = (select(holding).where(DOCUMENTS.c.ticket_id == Ticket.id)
                        .scalar_subquery())
        checks = () if exact is None else (cls.exactly(exact),)
        return list(session.scalars(ids.where(own_document, *checks)
                                    .order_by(Ticket.id.desc()).limit(wanted)))

    @classmethod
    def way(cls, documents: float, filtered: float, top: int, wanted: int,
            share: float) -> tuple[str, int]:
        """("walk", 0) or ("ranges", the first range's size in ticket ids; ``top`` or more: all
        the tickets holding the words at once), the cheaper by the estimates. ``share``: of
        the tickets the index finds, those expected to match (1: the index answers, a word
        or a phrase of two words; a longer phrase needs more tickets holding its pairs than
        matches, ``PAIRS_SHARE``, or holding its words, ``PHRASE_SHARE``: guesses, neither
        estimate knows how rare the phrase is); each is checked exactly either way, so only
        the cost of finding them differs."""
        documents, filtered = max(documents, 1.0), min(max(filtered, 1.0), top)
        needed = wanted / share
        size = cls.range_size(needed, documents / top * filtered / top)
        if size * cls.COST_RANGE_ID > documents * cls.COST_DOCUMENT:
            size = top  # the range's key bitmap would cost more than reading every match
        ranged = size < top
        read = min(documents, documents * size / top * 1.5) if ranged else documents
        looked_up = min(read, max(cls.SLICE, needed * top / filtered))
        if share < 1:  # the tickets holding a phrase's words: looked up by either way
            looked_up = max(looked_up - needed, 0.0)
        ranges = (documents * cls.COST_ENTRY * (2 if ranged else 1)
                  + (size * cls.COST_RANGE_ID if ranged else 0)
                  + read * cls.COST_DOCUMENT + looked_up * cls.COST_TICKET)
        walk = needed * top / documents * cls.COST_WALKED
        return ("walk", 0) if walk < ranges else ("ranges", size)

    @classmethod
    def _by_ranges(cls, session: Session, ids, holding, exact, wanted: int, top: int,
                   size: int) -> list[int]:
        """The newest tickets holding the words, read a range of ticket ids at a time from
        the top down (the GIN index's entries ANDed with the primary key's range, so only
        the documents of the range are read), each range's looked up among the filtered
        tickets; each next range sized by what the ranges so far found."""
        found: list[int] = []
        high, scanned = top, 0
        while high >= 1 and len(found) < wanted:
            low = max(high - size + 1, 1)
            held = select(DOCUMENTS.c.ticket_id).where(holding)
            if low > 1 or high < top:
                held = held.where(DOCUMENTS.c.ticket_id.between(low, high))
            candidates = sorted(session.scalars(held), reverse=True)
            found += cls._newest_of(session, ids, candidates, exact, wanted - len(found))
            scanned += high - low + 1
            high = low - 1
            grown = size * cls.RANGE_GROWTH
            size = grown if not found else min(
                grown, cls.range_size(wanted - len(found), len(found) / scanned))
        return found

    @classmethod
    def range_size(cls, needed: int, density: float) -> int:
        """Ticket ids expected to hold ``RANGE_SLACK`` times ``needed`` matches."""
        return max(cls.FIRST_RANGE, int(cls.RANGE_SLACK * needed / max(density, 1e-9)))

    @classmethod
    def _newest_of(cls, session: Session, ids, candidates: list[int], exact,
                   wanted: int) -> list[int]:
        """The ``wanted`` newest of ``candidates`` (newest first) that pass the filters and,
        when ``exact`` is a phrase, hold it, looked up by id a slice at a time."""
        found: list[int] = []
        start, size = 0, cls.SLICE if exact is None else cls.FIRST_EXACT_SLICE
        while start < len(candidates) and len(found) < wanted:
            if start and exact is not None:
                size = cls.next_slice(size, len(found), start, wanted)
            chunk = bindparam("chunk", candidates[start:start + size], type_=ARRAY(BigInteger))
            passing = ids.where(Ticket.id == func.any(chunk)).order_by(Ticket.id.desc())
            if exact is None:
                found += session.scalars(passing.limit(wanted - len(found)))
            else:
                found += cls._holding(session, passing, exact)[0][:wanted - len(found)]
            start += size
        return found

    @classmethod
    def next_slice(cls, size: int, found: int, checked: int, wanted: int) -> int:
        """The next slice of candidates: twice the last, up to ``SLICE``, but no more than
        half again the candidates that, at the share found so far, hold what is missing."""
        doubled = min(size * 2, cls.SLICE)
        if not found:
            return doubled
        return max(1, min(doubled, int(1.5 * (wanted - found) * checked / found) + 1))

    @classmethod
    def holding_phrase(cls, session: Session, phrase, tickets: list[int]) -> set[int]:
        """Which of ``tickets`` hold the phrase in their subject or in one of their messages."""
        listed = bindparam("tickets", tickets, type_=ARRAY(BigInteger))
        return set(cls._holding(session, select(Ticket.id).where(Ticket.id == func.any(listed)),
                                phrase)[0])

    @classmethod
    def _holding(cls, session: Session, tickets, phrase) -> tuple[list[int], int | None, int]:
        """Of the tickets ``tickets`` selects (their ids, in its order): those holding the
        phrase, the last one selected and how many were. The subject is checked with the
        selection; the messages of the others all at once, each ticket's read through their
        ``ticket_id`` index (7 us a ticket at a million, against 20-60 us as an ``EXISTS`` per
        ticket, which the planner may also turn into a hash of every message holding the
        phrase: it misjudges how many do, tens of thousands estimated for a phrase of common
        words where hundreds are, and read all 2.9 million messages to build it)."""
        query, messages = cls.tsquery(phrase), Message.__table__
        subject = literal_column(PG_SUBJECT_VECTOR.format(table="tickets")).op("@@")(query)
        rows = session.execute(tickets.add_columns(subject)).all()
        others = [ticket for ticket, in_subject in rows if not in_subject]
        in_messages = set(session.scalars(select(messages.c.ticket_id).distinct().where(
            messages.c.ticket_id == func.any(bindparam("others", others, type_=ARRAY(BigInteger))),
            PG_MESSAGE_VECTOR.op("@@")(query)))) if others else set()
        held = [ticket for ticket, in_subject in rows if in_subject or ticket in in_messages]
        return held, rows[-1][0] if rows else None, len(rows)


def estimated_rows(session: Session, query) -> float:
    """The planner's estimate of the rows ``query`` returns."""
    compiled = query.compile(dialect=session.get_bind().dialect,
                             compile_kwargs={"render_postcompile": True})  # IN (...) lists
    plan = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}",
                                                compiled.params)
    return plan.scalar()[0]["Plan"]["Plan Rows"]
