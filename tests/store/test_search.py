"""Full-text search (store.search) on SQLite FTS5 and PostgreSQL tsvector: what a phrase
matches, found each way a page is found (the ``strategy`` fixture), and how the PostgreSQL
engine checks phrases and chooses its way. The index kept current by every write path:
``test_search_upkeep``."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from store import search, search_engines
from store.models import Ticket
from tests.gateway.apifactory import add_message, add_ticket
from tests.store.search_helpers import HOSTILE, found, tickets_with


# --- what a phrase matches ---

def test_words_match_whole_words_case_folded(runtime, strategy):
    tickets_with(runtime, "Where is my INVOICE?", "invoices are late", "an invoicing tool")
    assert found(runtime, "invoice") == [1]
    assert found(runtime, "Invoice.") == [1]
    assert found(runtime, "voice") == []


def test_star_after_the_last_word_matches_longer_words(runtime, strategy):
    tickets_with(runtime, "Where is my INVOICE?", "invoices are late", "an invoicing tool",
                 "late invoices")
    assert found(runtime, "invoice*") == [4, 2, 1]
    assert found(runtime, "invoic*") == [4, 3, 2, 1]
    assert found(runtime, "late invoic*") == [4]
    assert found(runtime, "in*") == found(runtime, "in") == []  # too short: a whole word
    assert found(runtime, "*voice") == found(runtime, "voice*") == []


def test_words_must_be_adjacent_and_in_order(runtime, strategy):
    tickets_with(runtime, "the refund policy is clear", "policy on refund", "refund, policy!")
    assert found(runtime, "refund policy") == [3, 1]
    assert found(runtime, '"refund policy"') == [3, 1]
    assert found(runtime, "policy refund") == []


def test_subject_matches_as_well_as_message_text(runtime, strategy):
    tickets_with(runtime, "nothing here", subject="Payment failed twice")
    tickets_with(runtime, "my payment failed again")
    assert found(runtime, "payment failed") == [2, 1]


def test_non_ascii_text_folds_case_and_keeps_accents(runtime, strategy):
    tickets_with(runtime, "Herr MÜLLER aus der Straße", "Nefunguje přihlášení k účtu",
                 "Где мой ЗАКАЗ?", "注文について 教えて", "resume attached")
    assert found(runtime, "müller") == [1]
    assert found(runtime, "STRASSE") == []             # no transliteration
    assert found(runtime, "straße") == [1]
    assert found(runtime, "přihl*") == [2]
    assert found(runtime, "заказ") == [3]
    assert found(runtime, "注文について") == [4]
    assert found(runtime, "résumé") == []              # accents are kept, not stripped


def test_numbers_and_addresses(runtime, strategy):
    tickets_with(runtime, "order #48213977 is late", "100% refund", "1000 refunds",
                 "write to jane.doe@example.com")
    assert found(runtime, "48213977") == [1]
    assert found(runtime, "#48213977") == [1]
    assert found(runtime, "100%") == [2]
    assert found(runtime, "100") == [2]
    assert found(runtime, "100*") == [3, 2]
    assert found(runtime, "jane.doe@example.com") == [4]
    assert found(runtime, "example.com") == [4]


def test_input_without_letters_or_digits_matches_nothing(runtime, strategy):
    tickets_with(runtime, "100% _ sure")
    assert [found(runtime, q) for q in ("%", "_", "...", "\u200b")] == [[], [], [], []]


def test_query_syntax_is_never_interpreted(runtime, strategy):
    tickets_with(runtime, "invoice and refund near (the) end", "zzz")
    for q in HOSTILE:
        assert found(runtime, q) in ([], [1]), q


def test_operator_words_are_plain_words(runtime, strategy):
    tickets_with(runtime, "invoice or refund", "invoice", "refund", "near the door")
    assert found(runtime, "invoice OR refund") == [1]
    assert found(runtime, "NEAR") == [4]
    assert found(runtime, 'text:"invoice"') == []


def test_postgres_checks_a_phrase_ticket_by_ticket(runtime):
    """PostgreSQL: a walk's exact phrase check is a subquery per ticket, never a hash of every
    message holding the phrase (the planner overestimates those for a phrase of common words
    and read every message of a million-ticket store to build it)."""
    tickets_with(runtime, "printer jam again", "jam printer", "printer out of paper")
    with runtime.read_sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the SQLite engine checks phrases inside FTS5")
        phrase = search.parse("printer jam")
        query = (select(Ticket.id).where(search_engines.Postgres.exactly(phrase))
                 .order_by(Ticket.id.desc()).limit(26))
        compiled = query.compile(dialect=session.get_bind().dialect)
        plan = "\n".join(row[0] for row in session.connection().exec_driver_sql(
            f"EXPLAIN {compiled}", compiled.params))
        assert "SubPlan" in plan and "hashed SubPlan" not in plan
        assert list(session.scalars(query)) == [1]


def test_postgres_checks_a_phrase_for_a_slice_of_tickets_at_once(runtime):
    """PostgreSQL: the exact phrase check of candidate tickets (all their words in one
    document): the subject or one message holds the phrase, never two messages together."""
    with runtime.sessions.begin() as session:
        add_message(session, add_ticket(session, subject="printer jam"), "hello")
        add_message(session, add_ticket(session), "the printer jam again")
        ticket = add_ticket(session, subject="jam")
        add_message(session, ticket, "my printer")
        add_message(session, ticket, "jam printer")
        add_message(session, add_ticket(session), "printer out of paper")
    with runtime.read_sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the SQLite engine checks phrases inside FTS5")
        held = search_engines.Postgres.holding_phrase(session, search.parse("printer jam"),
                                                      [1, 2, 3, 4, 99])
        assert held == {1, 2}
        assert search_engines.Postgres.holding_phrase(session, search.parse("jam"), []) == set()


@pytest.mark.parametrize("documents, filtered, share, expected", [
    (900_000, 1_000_000, 1.0, "walk"),       # "the": the newest tickets hold it
    (72_000, 1_000_000, 1.0, "walk"),        # a common word: a few checks per match
    (7_600, 1_000_000, 1.0, "ranges"),       # a mid word: the newest range of ticket ids
    (300, 1_000_000, 1.0, "all"),            # a rare word: every ticket holding it at once
    (30_000, 5_000, 1.0, "walk"),            # an assignee's few tickets, a common word
    (300, 5_000, 1.0, "all"),                # ... a rare word
    (400_000, 1_000_000, 0.02, "walk"),      # a phrase of two very common words
    (20_000, 1_000_000, 0.02, "ranges"),     # a phrase of rarer words
    (2_000, 1_000_000, 0.02, "all"),         # ... of rare words
    (50_000, 3, 0.02, "walk"),               # a customer's three tickets
    (40_000, 1_000_000, 1.0, "walk"),        # a pair of words many tickets hold (0019)
])
def test_postgres_chooses_the_cheaper_way(documents, filtered, share, expected):
    """PostgreSQL: walk the filtered tickets, read the tickets holding the words by ranges of
    ticket ids, or all at once, by the estimates (a million tickets, a page of 26)."""
    way, size = search_engines.Postgres.way(documents, filtered, 1_000_000, 26, share)
    assert (way if way == "walk" or size < 1_000_000 else "all") == expected
