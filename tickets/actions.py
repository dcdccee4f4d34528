"""What agents do to a ticket (docs/api.md, docs/outbound.md): reply, add a note, merge.

Store side only, inside the caller's transaction; the API validates input first, and enqueues
the delivery of a reply after the commit (``queues.outbound``). A reply is stored at once
as an ``out`` message with ``delivery_status`` queued; on email it already has its signed
Message-ID, kept as a strong thread key, so an answer threads even before the mail left.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels import tokens
from channels.mail.html import sanitize
from config.workspaces import WorkspaceConfig
from store import db, repo
from store.models import Identity, Message, Participant, ThreadKey, Ticket, Workspace, utcnow
from tickets import canned, recipients, sla_clock, threads as threading

MAIL_CHANNELS = ("email", "form")   # answered by email
NOT_ANSWERABLE = ("spam", "deleted")


class ActionRefused(Exception):
    """The action cannot be done on this ticket (answered as 409 with ``code``)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Draft:
    """A validated reply or note."""
    text: str
    html: str = ""
    author: str = ""
    attachments: list[dict] = field(default_factory=list)  # filename, content_type, size, sha256
    idempotency_key: str = ""
    canned_id: int | None = None  # the canned response it was rendered from (counted)
    # Mail recipients the agent named (None: the default, tickets.recipients); lowercased.
    to: list[str] | None = None
    cc: list[str] | None = None
    bcc: list[str] | None = None


def sender_address(config: WorkspaceConfig) -> str:
    """The workspace's From address: ``sender``, else its first address or domain."""
    if config.sender:
        return config.sender.lower()
    if config.addresses:
        return config.addresses[0]
    return f"support@{config.domains[0]}" if config.domains else f"support@{config.slug}.invalid"


def reply(session: Session, workspace: Workspace, config: WorkspaceConfig, ticket: Ticket,
          draft: Draft, key: str, workspaces=()) -> Message:
    """Store an agent's reply as a queued ``out`` message; the ticket becomes answered.
    ``workspaces``: all of the deployment's, whose addresses reply-all never copies."""
    if ticket.status in NOT_ANSWERABLE:
        raise ActionRefused("not_answerable", f"a {ticket.status} ticket gets no reply")
    earlier = existing(session, workspace.id, "out", draft.idempotency_key)
    if earlier is not None:
        return earlier
    last = last_inbound(session, ticket.id)
    sender = sender_address(config)
    message = _message(workspace, ticket, "out", draft, from_name=config.name or config.slug,
                       from_address=sender)
    _address(session, config, ticket, last, draft, message, workspaces)
    message.account = last.account if last is not None else ""
    message.subject = ticket.subject
    message.delivery_status = "queued"
    if ticket.channel in MAIL_CHANNELS:
        token = tokens.sign(key, workspace.slug, ticket.number)
        message.native_id = tokens.message_id(token, sender.rpartition("@")[2]).strip("<>")
    session.add(message)
    session.flush()
    if draft.canned_id is not None:
        canned.count_use(session, workspace.id, draft.canned_id)
    if message.native_id:
        session.add(ThreadKey(workspace_id=workspace.id, key=threading.mid_key(message.native_id),
                              ticket_id=ticket.id, strong=True))
    _count(ticket)
    old = ticket.status
    repo.set_status(session, ticket, "answered", actor=draft.author or "api")
    now = utcnow()
    sla_clock.on_status_change(ticket, old, "answered", config.routing, now)
    sla_clock.agent_replied(ticket, config.routing, now, draft.author)
    return message


def _address(session: Session, config: WorkspaceConfig, ticket: Ticket, last: Message | None,
             draft: Draft, message: Message, workspaces=()) -> None:
    """To, Cc and Bcc of the reply: the agent's, else the customer and (mail) reply-all."""
    customer = recipient(session, ticket, last)
    to = draft.to if draft.to is not None else [customer] if customer else []
    cc = draft.cc
    if cc is None:
        cc = (recipients.reply_all(session, config, ticket, last, to, message.from_address,
                                   workspaces) if ticket.channel in MAIL_CHANNELS else [])
    chosen = recipients.chosen(to, cc, draft.bcc or [])
    message.to, message.cc, message.bcc = chosen.to, chosen.cc, chosen.bcc


def note(session: Session, workspace: Workspace, ticket: Ticket, draft: Draft) -> Message:
    """An internal note: stored on the ticket, never sent, no status change."""
    earlier = existing(session, workspace.id, "note", draft.idempotency_key)
    if earlier is not None:
        return earlier
    message = _message(workspace, ticket, "note", draft, from_name=draft.author,
                       from_address="")
    session.add(message)
    _count(ticket)
    session.flush()
    return message


def _message(workspace: Workspace, ticket: Ticket, direction: str, draft: Draft,
             from_name: str, from_address: str) -> Message:
    key = draft.idempotency_key or uuid.uuid4().hex
    now = utcnow()
    return Message(workspace_id=workspace.id, ticket_id=ticket.id, direction=direction,
                   channel=ticket.channel, native_id="", dedupe_key=f"{direction}:{key}"[:500],
                   from_name=from_name[:300], from_address=from_address, to=[], cc=[], bcc=[],
                   subject="", text=draft.text, reply_text=draft.text,
                   html=sanitize(draft.html) if draft.html else "",
                   attachments=draft.attachments, classification={}, author=draft.author,
                   received_at=now.isoformat(), sent_at="", created_at=now)


def existing(session: Session, workspace_id: int, direction: str,
             key: str) -> Message | None:
    """The message an earlier request with the same ``Idempotency-Key`` stored."""
    if not key:
        return None
    return session.scalar(select(Message).where(Message.workspace_id == workspace_id,
                                                Message.dedupe_key == f"{direction}:{key}"[:500]))


def _count(ticket: Ticket) -> None:
    ticket.message_count = (ticket.message_count or 0) + 1
    ticket.updated_at = utcnow()


def last_inbound(session: Session, ticket_id: int) -> Message | None:
    """The customer's latest message that is no automatic mail and whose sender was verified
    (what a reply answers: never a stranger's message, docs/threading.md)."""
    rows = session.scalars(select(Message).where(Message.ticket_id == ticket_id,
                                                 Message.direction == "in",
                                                 Message.sender_verified.is_(True))
                           .order_by(Message.id.desc()).limit(50))
    return next((m for m in rows if (m.classification or {}).get("kind", "normal")
                 in ("normal", "list", "spam")), None)


def recipient(session: Session, ticket: Ticket, last: Message | None) -> str:
    """Whom the reply goes to (docs/threading.md). Chat and Telegram: the sender of the latest
    verified message, in whose conversation it is delivered. Mail: the ticket's customer, at the
    latest verified message's address when that is one of the customer's identities (a customer
    writing from a second, proven address is answered there), else at their first email."""
    latest = last.from_address if last is not None else ""
    if latest and ticket.channel not in MAIL_CHANNELS:
        return latest
    owned = select(Identity.kind, Identity.value).where(Identity.customer_id == ticket.customer_id)
    identities = [tuple(row) for row in session.execute(owned.order_by(Identity.id))]
    if latest and repo.identity_key(latest) in identities:
        return latest
    return next((value for kind, value in identities if kind == "email"), latest)


# --- merge -------------------------------------------------------------------------------------

def merge(session: Session, workspace: Workspace, source: Ticket, into: Ticket,
          actor: str = "api") -> Ticket:
    """Move ``source``'s messages, thread keys and participants to ``into`` (its survivor);
    ``source`` is closed and redirects there from now on. Returns the survivor."""
    target = repo.survivor(session, into)
    if source.merged_into_id is not None:
        raise ActionRefused("already_merged", "the ticket is merged already")
    if target.id == source.id:
        raise ActionRefused("same_ticket", "a ticket cannot be merged into itself")
    _lock(session, workspace, source)
    for model in (Message, ThreadKey):
        session.execute(update(model).where(model.ticket_id == source.id)
                        .values(ticket_id=target.id))
    _move_participants(session, source.id, target.id)
    session.execute(update(Ticket).where(Ticket.merged_into_id == source.id)
                    .values(merged_into_id=target.id))  # earlier merges follow
    target.message_count = (target.message_count or 0) + (source.message_count or 0)
    target.updated_at = source.updated_at = utcnow()
    source.message_count = 0
    source.merged_into_id = target.id
    repo.audit(session, source, "merged_into", "", str(target.number), actor)
    repo.audit(session, target, "merged_from", "", str(source.number), actor)
    repo.set_status(session, source, "closed", actor)
    source.closed_at = utcnow()
    session.flush()
    return target


def _lock(session: Session, workspace: Workspace, source: Ticket) -> None:
    """Take the pipeline's conversation locks of ``source`` so no message lands on it while
    it moves (PostgreSQL; SQLite serializes writers anyway)."""
    keys = session.scalars(select(ThreadKey.key).where(ThreadKey.ticket_id == source.id))
    db.lock_keys(session, [f"{workspace.slug}:{k}" for k in keys]
                 + [f"{workspace.slug}:number:{source.number}"])


def _move_participants(session: Session, source_id: int, target_id: int) -> None:
    """Copy: the survivor gets them all; the merged ticket keeps its own, so a subject token
    ``[#<merged>]`` from one of them still passes the participant check (then redirects)."""
    moving = set(session.scalars(select(Participant.address)
                                 .where(Participant.ticket_id == source_id)))
    present = repo.participants_among(session, target_id, list(moving)) if moving else set()
    for address in sorted(moving - present):
        session.add(Participant(ticket_id=target_id, address=address))
    session.flush()
