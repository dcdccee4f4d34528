"""Automatic mail through the whole ingest path (real Redis, SQLite and PostgreSQL): what the
classification calls automatic never opens a ticket and never reopens one; customer mail that
merely talks about bounces or absence still does."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from queues.intake import now_iso
from store import repo
from store.models import Message, QuarantineEntry, Ticket
from tests.channels.test_classify_fixtures import EXPECTED
from workers.ingest.job import ingest_with

FIXTURES = Path(__file__).parent / "fixtures" / "automatic"
AUTOMATIC = sorted(n for n, e in EXPECTED.items() if e[0] in ("bounce", "out_of_office",
                                                               "auto_reply"))
CUSTOMER_LOOK_ALIKES = sorted(n for n, e in EXPECTED.items() if e[0] in ("normal", "list"))
CUSTOMER_MAIL = b"""\
From: Alice Example <alice@customer.test>
To: support@demo.test
Subject: Help with my order
Message-ID: <CAF-thread-1@mail.customer.test>
Date: Mon, 6 May 2024 09:00:00 +0200

My order #1234 has not arrived yet.
"""


def envelope(rt, raw: bytes) -> dict:
    return {"workspace": "demo", "channel": "email", "account": "smtp", "meta": {},
            "received_at": now_iso(), "raw_ref": rt.blobs.put(raw), "size": len(raw)}


def fixture(name: str, in_reply_to: str = "") -> bytes:
    """A fixture's bytes, made a reply to ``in_reply_to`` when given (any In-Reply-To of the
    fixture's own is dropped so that the message threads to our ticket)."""
    raw = (FIXTURES / f"{name}.eml").read_bytes()
    if not in_reply_to:
        return raw
    lines = [line for line in raw.split(b"\n") if not line.startswith(b"In-Reply-To:")]
    return f"In-Reply-To: <{in_reply_to}>\n".encode() + b"\n".join(lines)


def tickets(rt) -> list[Ticket]:
    with rt.sessions() as session:
        return session.scalars(select(Ticket).order_by(Ticket.number)).all()


def answered_ticket(rt, status: str = "answered") -> Ticket:
    assert ingest_with(rt, [envelope(rt, CUSTOMER_MAIL)]) == ["created"]
    with rt.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        repo.set_status(session, ticket, status, actor="agent")
        session.commit()
    return ticket


def test_out_of_office_without_colon_does_not_reopen_the_answered_ticket(runtime):
    answered_ticket(runtime)
    reply = fixture("out-of-office-before-reply-prefix", "CAF-thread-1@mail.customer.test")
    assert ingest_with(runtime, [envelope(runtime, reply)]) == ["threaded"]
    [ticket] = tickets(runtime)
    assert (ticket.status, ticket.message_count) == ("answered", 2)


def test_automatic_mail_replying_to_a_ticket_never_reopens_it(runtime):
    answered_ticket(runtime, status="closed")
    replies = [envelope(runtime, fixture(n, "CAF-thread-1@mail.customer.test"))
               for n in AUTOMATIC]
    outcomes = ingest_with(runtime, replies)
    [ticket] = tickets(runtime)
    assert (ticket.status, set(outcomes)) == ("closed", {"threaded"})


def test_automatic_mail_of_no_ticket_is_quarantined_never_a_ticket(runtime):
    outcomes = ingest_with(runtime, [envelope(runtime, fixture(n)) for n in AUTOMATIC])
    with runtime.sessions() as session:
        reasons = session.scalars(select(QuarantineEntry.reason)).all()
    assert (tickets(runtime), set(outcomes), set(reasons)) == ([], {"quarantined"}, {"automatic"})
    assert len(reasons) == len(AUTOMATIC)


def test_customer_mail_about_bounces_or_absence_opens_tickets(runtime):
    outcomes = ingest_with(runtime, [envelope(runtime, fixture(n)) for n in CUSTOMER_LOOK_ALIKES])
    assert outcomes == ["created"] * len(CUSTOMER_LOOK_ALIKES)
    with runtime.sessions() as session:
        kinds = {m.classification.get("kind") for m in session.scalars(select(Message))}
    assert kinds == {"normal", "list"}
