"""Full-text search of tickets through the database's own engine: SQLite FTS5, PostgreSQL
tsvector with a GIN index (one full-text entry per ticket, made by migration 0017 and kept
current by the database's triggers; docs/search.md).

What ``q`` matches (docs/api.md): tickets whose subject or any message text contains the
words of ``q`` next to each other, in that order; case is folded, punctuation only separates
words (``100%`` finds "100", not "1000"). A ``*`` right after the last word (of at least
``PREFIX_MIN`` characters) also finds the longer words it begins (``invoic*``: "invoices").
``q`` reaches the engine as one quoted phrase (FTS5) or through ``phraseto_tsquery``
(PostgreSQL): no character of it is ever query syntax.

How a page is found (newest ticket first, with the list's other filters): the index holds
one entry per ticket, or entries ordered by ticket, so the newest matching tickets are read
from it in ticket order and checked against the filters, or the filtered tickets are walked
newest first and checked against it (``store.search_engines``): a page costs about as many
entries as the tickets it had to look at, not the size of the store.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import false
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from store import search_engines
from store.models import Ticket

PREFIX_MIN = 3          # characters; a shorter last word matches whole words only
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
    """Ids of the ``wanted`` newest tickets of ``query`` that match (all, when fewer do),
    newest first."""
    ids = query.with_only_columns(Ticket.id)
    return search_engines.of(session).newest_matches(session, ids, phrase, wanted)
