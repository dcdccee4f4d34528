"""Raw customer input (mail, contact form, chat) through the real intake, adapters and ingest
job, as the edges hand it over; and what the store then holds about people and messages."""
from __future__ import annotations

import json
import uuid
from email.message import EmailMessage

from sqlalchemy import select

from queues.intake import Intake
from store.models import Contact, Customer, Identity, Message, Ticket
from workers.ingest.job import ingest_with


def feed(rt, channel: str, raw: bytes, account: str, meta: dict | None = None) -> str:
    envelope = Intake(rt.redis).accept(channel, "demo", account, raw, meta or {})
    [outcome] = ingest_with(rt, [envelope])
    return outcome


def mail(rt, sender: str, subject: str = "Printer on fire", in_reply_to: str = "",
         cc: str = "", text: str = "Hello") -> tuple[str, str]:
    """A customer mail to support@demo.test; returns (outcome, its Message-ID)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "support@demo.test", subject
    msg["Message-ID"] = message_id = f"<{uuid.uuid4().hex}@customer.test>"
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    if cc:
        msg["Cc"] = cc
    msg.set_content(text)
    outcome = feed(rt, "email", msg.as_bytes(), "smtp",
                   {"rcpt_to": ["support@demo.test"], "mail_from": ""})
    return outcome, message_id


def form(rt, email: str, subject: str, message: str = "Please look at this") -> str:
    document = {"v": 1, "workspace": "demo", "via": "json", "submission_id": uuid.uuid4().hex,
                "name": "Someone", "email": email, "subject": subject, "message": message,
                "attachments": [], "submitted_at": "2026-11-24T10:00:00+00:00"}
    return feed(rt, "form", json.dumps(document).encode(), "form")


def chat(rt, visitor: dict, source: str = "webhook", conversation: str = "conv-1",
         text: str = "Hello from the chat") -> str:
    payload = {"conversation_id": conversation, "message_id": uuid.uuid4().hex,
               "visitor": visitor, "text": text}
    return feed(rt, "chat", json.dumps(payload).encode(), "widget", {"source": source})


def tickets(rt) -> list[Ticket]:
    with rt.sessions() as s:
        return s.scalars(select(Ticket).order_by(Ticket.number)).all()


def messages(rt) -> list[Message]:
    with rt.sessions() as s:
        return s.scalars(select(Message).order_by(Message.id)).all()


def customer_of(rt, kind: str, value: str) -> int | None:
    with rt.sessions() as s:
        return s.scalar(select(Identity.customer_id).where(Identity.kind == kind,
                                                          Identity.value == value))


def identities(rt, customer_id: int) -> set[tuple[str, str]]:
    with rt.sessions() as s:
        return {(i.kind, i.value) for i in s.scalars(
            select(Identity).where(Identity.customer_id == customer_id))}


def contacts(rt) -> list[tuple[int, str, str]]:
    with rt.sessions() as s:
        return [(c.customer_id, c.kind, c.value) for c in s.scalars(select(Contact))]


def customer_count(rt) -> int:
    with rt.sessions() as s:
        return len(s.scalars(select(Customer.id)).all())
