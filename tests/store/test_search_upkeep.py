"""Full-text search (store.search) on both engines: the index follows every write path
(ingest, edits, merges, deletes, notes, subject changes, huge and hostile tickets), found each
way a page is found (the ``strategy`` fixture)."""
from __future__ import annotations

from sqlalchemy import delete, select, text as sql_text, update

from store import repo, search, search_engines
from store.models import Message, Ticket
from tests.gateway.apifactory import add_message, add_ticket
from tests.store.search_helpers import found, tickets_with
from tests.workers.events import chat_event, mail_event
from tickets import actions
from tickets.actions import Draft
from workers.ingest.job import store_event


# --- the index follows every write ---

def test_ingested_messages_are_found(runtime, strategy):
    store = lambda e: store_event(runtime, runtime.config.workspace("demo"), e)  # noqa: E731
    store(mail_event("a@x", subject="Printer jammed", text="It makes a grinding noise"))
    store(mail_event("b@x", in_reply_to=["a@x"], text="Now it smells of smoke"))
    store(mail_event("c@x", sender="bob@customer.test", subject="Other", text="unrelated"))
    assert found(runtime, "grinding noise") == [1]
    assert found(runtime, "smells of smoke") == [1]
    assert found(runtime, "printer jammed") == [1]
    assert found(runtime, "unrelated") == [2]


def test_edited_message_is_found_by_its_new_text_only(runtime, strategy):
    store = lambda e: store_event(runtime, runtime.config.workspace("demo"), e)  # noqa: E731
    store(chat_event("m1", text="my parcel is lost"))
    assert store(chat_event("m1", text="my parcel arrived", revision="2")) == "edited"
    assert found(runtime, "arrived") == [1]
    assert found(runtime, "lost") == []
    assert found(runtime, "parcel arrived") == [1]
    assert found(runtime, "is lost") == found(runtime, "parcel is lost") == []


def test_merged_messages_are_found_on_the_survivor(runtime, strategy):
    tickets_with(runtime, "first question", "second question about zebras")
    with runtime.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo")
        actions.merge(session, ws, repo.ticket_by_number(session, ws.id, 2),
                      repo.ticket_by_number(session, ws.id, 1))
    assert found(runtime, "zebras") == [1]
    assert found(runtime, "about zebras") == found(runtime, "second question about") == [1]


def test_deleted_message_is_no_longer_found(runtime, strategy):
    tickets_with(runtime, "temporary words")
    with runtime.sessions.begin() as session:
        session.delete(session.scalar(select(Message)))
    assert found(runtime, "temporary") == found(runtime, "temporary words") == []


def test_agent_notes_are_found(runtime, strategy):
    tickets_with(runtime, "printer question")
    with runtime.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo")
        actions.note(session, ws, repo.ticket_by_number(session, ws.id, 1),
                     Draft(text="customer called about the toner"))
    assert found(runtime, "about the toner") == [1]


def test_phrase_stays_within_one_message(runtime, strategy):
    """A ticket's messages share one index entry (PostgreSQL) or one ticket's rowids
    (SQLite): the last word of one and the first of the next are not a phrase."""
    with runtime.sessions.begin() as session:
        ticket = add_ticket(session, subject="late refund")
        add_message(session, ticket, "I want a refund")
        add_message(session, ticket, "policy says thirty days")
    assert found(runtime, "refund policy") == []
    assert found(runtime, "refund late") == []
    assert found(runtime, "late refund") == [1]
    assert found(runtime, "want refund") == []


def test_phrase_never_joins_two_parts_of_a_ticket(runtime, strategy):
    """Each pair of a phrase may stand in the index (PostgreSQL: the ticket's pairs, 0019)
    while the phrase is in no one message or subject: the phrase does not match. Three words
    whose two pairs are in two messages; the subject's last word and a message's first; a
    prefix after a message's last word."""
    with runtime.sessions.begin() as session:
        ticket = add_ticket(session, subject="broken printer")
        add_message(session, ticket, "printer jam")
        add_message(session, ticket, "jam again")
        add_message(session, add_ticket(session, subject="Question"), "my printer jam again")
        ticket = add_ticket(session, subject="late refund")
        add_message(session, ticket, "policy applies")
    assert found(runtime, "printer jam again") == [2]
    assert found(runtime, "printer jam") == [2, 1]
    assert found(runtime, "broken printer jam") == []
    assert found(runtime, "broken printer") == [1]
    assert found(runtime, "refund policy") == found(runtime, "refund pol*") == []
    assert found(runtime, "late ref*") == found(runtime, "policy app*") == [3]
    assert found(runtime, "jam again*") == [2, 1]


def test_phrases_in_long_messages_are_found_as_the_exact_check_finds_them(runtime, strategy):
    """Hostile: a message of 17,576 distinct words (PostgreSQL positions stop at 16,383; the
    words after all stand at 16,383) and one word 300 times (PostgreSQL keeps a word's first
    256 positions). The pairs in the index come from the same positions as the exact check
    reads, so both find the same tickets."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = [a + b + c for a in letters for b in letters for c in letters]
    with runtime.sessions.begin() as session:
        for number, text in enumerate((" ".join(words), " ".join(["echo"] * 300) + " bravo")):
            ticket = add_ticket(session, subject="long")
            session.add(Message(workspace_id=ticket.workspace_id, ticket_id=ticket.id,
                                direction="in", channel="email", dedupe_key=f"long-{number}",
                                text=text))
    phrases = ["aaa aab", "aab aac aad", "ygb ygc", "ygc ygd", "ygb zzz", "zzy zzz",
               "yga ygb ygc", "zzz", "echo echo", "echo echo echo", "echo bravo", "echo bra*"]
    assert found(runtime, "aaa aab") == found(runtime, "aab aac aad") == [1]
    assert found(runtime, "echo echo echo") == [2]
    with runtime.read_sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            assert found(runtime, "zzy zzz") == found(runtime, "ygc ygd") == [1]
            assert found(runtime, "echo bravo") == [2]
            return
        exactly = {q: sorted(search_engines.Postgres.holding_phrase(
            session, search.parse(q), [1, 2]), reverse=True) for q in phrases}
    assert exactly["ygb ygc"] == [1] and exactly["ygc ygd"] == []  # the cap, as 0012 had it
    assert {q: found(runtime, q) for q in phrases} == exactly


def test_long_words_and_many_pairs_are_stored_and_found(runtime, strategy):
    """Hostile: two words of 300 characters side by side (their pair is longer than a
    PostgreSQL lexeme may be: cut, and the phrase falls back to its words) and a message of
    33,000 distinct two-character CJK words (its pairs would outgrow what a document takes:
    its ticket is checked message by message). Every insert succeeds, every phrase is found."""
    long_a, long_b = "a" * 299 + "x", "b" * 299 + "y"
    han = [chr(0x4E00 + n) for n in range(20_000)]
    cjk = " ".join(han[n % 20_000] + han[(n * 7 + 1) % 20_000] for n in range(33_000))
    with runtime.sessions.begin() as session:
        for number, text in enumerate((f"see {long_a} {long_b} here", cjk, "plain words")):
            ticket = add_ticket(session, subject="long")
            session.add(Message(workspace_id=ticket.workspace_id, ticket_id=ticket.id,
                                direction="in", channel="email", dedupe_key=f"long-{number}",
                                text=text))
    assert found(runtime, f"{long_a} {long_b}") == found(runtime, f"see {long_a}") == [1]
    assert found(runtime, f"{long_a} {long_b[:200]}*") == [1]
    assert found(runtime, f"{long_b} {long_a}") == []
    first, second, third = cjk.split()[:3]
    assert found(runtime, f"{first} {second}") == found(runtime, f"{second} {third}") == [2]
    assert found(runtime, f"{second} {first}") == []
    assert found(runtime, "plain words") == [3]


def test_subject_change_is_found_by_its_new_words_only(runtime, strategy):
    tickets_with(runtime, "body text", subject="Broken kettle")
    with runtime.sessions.begin() as session:
        session.execute(update(Ticket).values(subject="Broken toaster"))
    assert found(runtime, "toaster") == [1]
    assert found(runtime, "kettle") == []
    assert found(runtime, "broken toaster") == [1]
    assert found(runtime, "broken kettle") == found(runtime, "broken ket*") == []


def test_deleted_ticket_is_no_longer_found(runtime, strategy):
    tickets_with(runtime, "gone soon", subject="Vanishing")
    tickets_with(runtime, "stays")
    with runtime.sessions.begin() as session:
        session.execute(delete(Message).where(Message.ticket_id == 1))
        session.execute(delete(Ticket).where(Ticket.id == 1))
    assert found(runtime, "vanishing") == found(runtime, "gone") == []
    assert found(runtime, "gone soon") == []
    assert found(runtime, "stays") == [2]


def test_huge_ticket_is_stored_and_found(runtime, strategy):
    """Hostile: a ticket whose messages hold more distinct words than one PostgreSQL
    document may (1 MB): every insert succeeds and every message is still found."""
    words = [f"w{n:06d}x" for n in range(120_000)]
    with runtime.sessions.begin() as session:
        ticket = add_ticket(session, subject="flood")
        for part in range(12):
            session.add(Message(workspace_id=ticket.workspace_id, ticket_id=ticket.id,
                                direction="in", channel="email", dedupe_key=f"flood-{part}",
                                text=" ".join(words[part * 10_000:(part + 1) * 10_000])))
            session.flush()
        add_message(session, ticket, "needle in the haystack")
        add_message(session, add_ticket(session, subject="other"), "needle alone")
    with runtime.read_sessions() as session:  # PostgreSQL: its document stopped growing
        if session.get_bind().dialect.name == "postgresql":
            assert not session.scalar(sql_text(
                "SELECT complete FROM ticket_documents WHERE ticket_id = 1"))
    assert found(runtime, "needle in the") == [1]
    assert found(runtime, "w119999x") == [1]
    assert found(runtime, "needle") == [2, 1]
    assert found(runtime, "haystack needle") == []
    with runtime.sessions.begin() as session:
        session.execute(update(Message).where(Message.text == "needle in the haystack")
                        .values(text="a pin in the haystack"))
    assert found(runtime, "needle") == [2]
    assert found(runtime, "pin in the") == [1]


def test_a_filter_with_few_tickets_finds_the_newest_matches(runtime, strategy):
    """An assignee's tickets among many matches, over several batches (one message or two
    per ticket, so a batch may end inside a ticket)."""
    with runtime.sessions.begin() as session:
        for n in range(30):
            ticket = add_ticket(session, assignee="ann" if n % 7 == 0 else "bob")
            add_message(session, ticket, "printer jam")
            if n % 2:
                add_message(session, ticket, "printer again")
    with runtime.read_sessions() as session:
        workspace_id = repo.workspace_row(session, "demo").id
        for assignee, wanted, newest in (("ann", 3, [29, 22, 15]), ("ann", 10, [29, 22, 15, 8, 1]),
                                         ("bob", 4, [30, 28, 27, 26]), ("eve", 5, [])):
            query = search.restrict(session, select(Ticket).where(
                Ticket.workspace_id == workspace_id, Ticket.assignee == assignee),
                "printer", wanted)
            assert [t.number for t in session.scalars(query.order_by(Ticket.id.desc()))] == newest
