"""Replies by email (tickets from email and from the contact form): MIME from the stored reply,
then the relay, or the local outbox when ``SMTP_RELAY_URL`` is unset.

In-Reply-To names the customer's latest message; References the ticket's mail in order (theirs
and ours), so every client shows one thread. Messages of unverified senders (docs/threading.md)
are in neither: the customer's thread never names a stranger's mail.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels import tokens
from store.models import Message, Ticket
from tickets.actions import last_inbound
from workers.outbound import mail, relay
from workers.outbound.autoreply import ACK_AUTHOR
from workers.outbound.relay import PermanentFailure

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str            # sent | outbox
    detail: str = ""
    native_id: str = ""
    outbox: dict | None = None   # the OutboxEntry to write with the message's new state


@dataclass
class EmailPlan:
    message: EmailMessage
    mail_from: str
    recipients: list[str]
    workspace: str
    message_row_id: int | None
    kind: str = "reply"


def prepare(rt, session: Session, message: Message, ticket: Ticket, config, key: str) -> EmailPlan:
    if not message.to:
        raise PermanentFailure("no email address to answer to")
    token = tokens.sign(key, config.slug, ticket.number)
    last = last_inbound(session, ticket.id)
    automatic = message.author == ACK_AUTHOR
    subject = message.subject if automatic else mail.reply_subject(
        ticket.subject, ticket.number, config.threading.subject_prefix)
    parts = mail.MailParts(
        workspace=config.slug, from_name=message.from_name, from_address=message.from_address,
        to=list(message.to), cc=list(message.cc or []), token=token,
        message_id=message.native_id,
        subject=subject, text=message.text, html=message.html, automatic=automatic,
        in_reply_to=last.native_id if last is not None and last.channel == "email" else "",
        references=thread_ids(session, ticket.id),
        attachments=[(a["filename"], a["content_type"], rt.blobs.get(a["sha256"]))
                     for a in message.attachments or []])
    for address in message.bcc or []:  # checked as To and Cc are, though never a header
        if mail.CONTROL.search(address) or not address.strip():
            raise mail.Unsendable(f"recipient {address!r} is not a mail address")
    envelope = list(dict.fromkeys([*message.to, *(message.cc or []), *(message.bcc or [])]))
    return EmailPlan(mail.build(parts), message.from_address, envelope, config.slug,
                     message.id, kind="acknowledgement" if automatic else "reply")


def thread_ids(session: Session, ticket_id: int) -> list[str]:
    """Message-IDs of the ticket's mail, oldest first (ours and the verified senders')."""
    return [m for m in session.scalars(
        select(Message.native_id).where(Message.ticket_id == ticket_id,
                                        Message.channel == "email", Message.native_id != "",
                                        Message.direction.in_(("in", "out")),
                                        Message.sender_verified.is_(True))
        .order_by(Message.id)) if "@" in m]


def send(rt, plan: EmailPlan) -> Outcome:
    """Through the relay; with none configured, into the outbox (never dropped)."""
    if not rt.settings.smtp_relay_url:
        return keep_in_outbox(rt, plan)
    try:
        settings = relay.parse_url(rt.settings.smtp_relay_url)
    except ValueError as exc:
        raise relay.TransientFailure(str(exc)) from exc  # fixed config retries, then sends
    answer = relay.send(settings, plan.message, plan.mail_from, plan.recipients)
    return Outcome("sent", f"relay {settings.host}:{settings.port}: {answer}")


def keep_in_outbox(rt, plan: EmailPlan) -> Outcome:
    """The raw mail into the blob store; the caller writes the entry (``Outcome.outbox``) in
    the transaction that records the message's state, so a retry never keeps it twice."""
    raw = plan.message.as_bytes()
    entry = dict(workspace=plan.workspace, message_id=plan.message_row_id, kind=plan.kind,
                 mail_from=plan.mail_from, recipients=plan.recipients,
                 subject=str(plan.message["Subject"]), raw_ref=rt.blobs.put(raw))
    log.warning("SMTP_RELAY_URL is unset: mail %s to %s kept in the outbox (%d bytes)",
                plan.message["Message-ID"], ", ".join(plan.recipients), len(raw))
    return Outcome("outbox", "SMTP_RELAY_URL is unset: kept in the local outbox", outbox=entry)
