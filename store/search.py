"""Full-text search of tickets through the database's own engine: SQLite FTS5, PostgreSQL
tsvector with GIN indexes (made by migration 0007, kept current by the store itself).

What ``q`` matches (docs/api.md): tickets whose subject or any message text contains the
words of ``q`` next to each other, in that order; case is folded, punctuation only separates
words (``100%`` finds "100", not "1000"). A ``*`` right after the last word (of at least
``PREFIX_MIN`` characters) also finds the longer words it begins (``invoic*``: "invoices").
``q`` reaches the engine as one quoted phrase (FTS5) or through ``phraseto_tsquery``
(PostgreSQL): no character of it is ever query syntax.

How a page is found (newest ticket first, with the list's other filters): a full-text index
tells which documents hold the words, in no useful order. The filtered tickets are walked
newest first in chunks that grow fourfold (``FIRST_CHUNK``, at most ``LARGEST_CHUNK``) and
each chunk is checked against the index in one go, until the page is full: a frequent word
fills it from the first chunk. When the first chunks found too little, the phrase is rare among
them; from then on, before each chunk, if collecting every match costs less than checking the
next chunk and the chunks already checked (at most the engine's ``RARE_MATCHES``, or
``MATCHES_PER_TICKET`` per ticket of those chunks, match in all), the matches' tickets are
collected from the index instead: whichever way the walk ends, it costs at most a few times the
cheaper one. (Counting the chunks already checked bounds the walk: a phrase of two common words
that is rare as a phrase once walked a million tickets in 8,192-ticket chunks, 10 s.)
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from sqlalchemy import false
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from store import search_engines
from store.models import Ticket

PREFIX_MIN = 3          # characters; a shorter last word matches whole words only
FIRST_CHUNK = 128       # tickets checked at once first; each next chunk is four times larger
LARGEST_CHUNK = 8_192   # tickets checked at once at most
RARE_AFTER = 2          # chunks walked before asking whether collecting is cheaper
WORD_CHAR = re.compile(r"[^\W_]")           # a letter or a digit
PREFIX = re.compile(r"([^\W_]+)\*\s*$")      # a last word followed by a star


@dataclass(frozen=True)
class Phrase:
    """``q`` as the search engine reads it."""
    text: str
    last_word: str = ""  # set: it also matches longer words it begins

    @property
    def prefix(self) -> bool:
        return bool(self.last_word)


def parse(q: str) -> Phrase | None:
    """The phrase ``q`` asks for; None when it holds no letter or digit (it matches nothing)."""
    if not WORD_CHAR.search(q):
        return None
    star = PREFIX.search(q)
    if star is None or len(star.group(1)) < PREFIX_MIN:
        return Phrase(q)
    return Phrase(q[:star.start()] + star.group(1), star.group(1))


def restrict(session: Session, query: Select, q: str, wanted: int) -> Select:
    """``query`` (tickets with the list's other filters and cursor) narrowed to the ``wanted``
    newest tickets ``q`` matches (all, when fewer do)."""
    phrase = parse(q)
    if phrase is None:
        return query.where(false())
    return query.where(Ticket.id.in_(newest_matches(session, query, phrase, wanted)))


def newest_matches(session: Session, query: Select, phrase: Phrase, wanted: int) -> list[int]:
    """Ids of the ``wanted`` newest tickets of ``query`` that match (all, when fewer do)."""
    engine = search_engines.of(session)
    ids = query.with_only_columns(Ticket.id).order_by(Ticket.id.desc())
    found: list[int] = []
    below, size, checked = None, FIRST_CHUNK, 0
    for walked in itertools.count(1):
        chunk = list(session.scalars(ids.where(*_below(below)).limit(size)))
        found += sorted(engine.matching_among(session, phrase, chunk), reverse=True)
        if len(found) >= wanted or len(chunk) < size:
            return found[:wanted]  # newest first: chunks go down the ids
        below, size, checked = chunk[-1], min(size * 4, LARGEST_CHUNK), checked + len(chunk)
        if walked >= RARE_AFTER:  # collecting beats checking the next chunk (and the walk)?
            most = max(engine.RARE_MATCHES,
                       int(engine.MATCHES_PER_TICKET * (size + checked)))
            rare = engine.rare_matches(session, phrase, most)
            if rare is not None:
                return found + _newest_of(session, ids.where(Ticket.id < below), rare,
                                          wanted - len(found))
    return found


def _newest_of(session: Session, ids: Select, candidates: list[int], wanted: int) -> list[int]:
    """The ``wanted`` newest of ``candidates`` that ``ids`` (the filtered tickets) holds."""
    candidates, found = sorted(candidates, reverse=True), []
    for start in range(0, len(candidates), FIRST_CHUNK * 4):
        chunk = candidates[start:start + FIRST_CHUNK * 4]
        found += session.scalars(ids.where(Ticket.id.in_(chunk)).limit(wanted - len(found)))
        if len(found) >= wanted:
            break
    return found


def _below(ticket_id: int | None) -> tuple:
    return () if ticket_id is None else (Ticket.id < ticket_id,)
