"""The acknowledgement job: a new ticket's first message gets the workspace's template, once.

Enqueued by ``hooks.after_ingest`` after the ingest batch committed. The decision is
``autoreply.decide``; then the address must not be bouncing, and the sliding-window limits per
recipient and per ticket must allow it (``queues.ratelimit``). The acknowledgement is stored as
an ``out`` message (dedupe key ``ack:<ticket id>``: at most one per ticket, whatever retries
happen) and delivered like a reply, with ``Auto-Submitted: auto-replied`` and
``X-Auto-Response-Suppress: All``.
"""
from __future__ import annotations

import logging
import time

from sqlalchemy import select

from channels import tokens
from channels.mail.subject import ticket_token
from config import signing
from config import outbound as outbound_config
from queues import ratelimit
from store import repo
from store.models import Identity, Message, ThreadKey, Ticket, utcnow
from tickets import threads
from tickets.actions import sender_address
from workers.outbound import autoreply, deliver
from queues.runtime import Runtime, runtime

log = logging.getLogger(__name__)
ACK_AUTHOR = autoreply.ACK_AUTHOR


def acknowledge(workspace: str, dedupe_key: str) -> str:
    """RQ job entry point."""
    return acknowledge_with(runtime(), workspace, dedupe_key)


def acknowledge_with(rt: Runtime, workspace: str, dedupe_key: str,
                     now: float | None = None) -> str:
    """Returns the delivery status of the acknowledgement, or why none was sent."""
    config = rt.config.workspace(workspace)
    if config is None:
        return "skipped: workspace not configured"
    with rt.sessions.begin() as session:
        found = _first_message(session, workspace, dedupe_key)
        if isinstance(found, str):
            return found
        message, ticket = found
        existing = session.scalar(select(Message.id).where(
            Message.workspace_id == ticket.workspace_id,
            Message.dedupe_key == f"ack:{ticket.id}"))
        if existing is None:
            reason = _refusal(rt, session, config, message, ticket, now)
            if reason:
                log.info("no acknowledgement for ticket %s: %s", ticket.number, reason)
                return f"skipped: {reason}"
            existing = _store(session, config, message, ticket, signing.default_key()).id
    return deliver.deliver_with(rt, existing)


def _first_message(session, workspace: str, dedupe_key: str):
    ws = repo.workspace_row(session, workspace)
    message = session.scalar(select(Message).where(Message.workspace_id == ws.id,
                                                   Message.dedupe_key == dedupe_key))
    if message is None:
        return "skipped: message not found"
    ticket = repo.survivor(session, session.get(Ticket, message.ticket_id))
    first = session.scalar(select(Message.id).where(Message.ticket_id == ticket.id,
                                                    Message.direction == "in")
                           .order_by(Message.id).limit(1))
    if first != message.id:
        return "skipped: not the ticket's first message"
    return message, ticket


def _refusal(rt, session, config, message: Message, ticket: Ticket, now) -> str:
    settings = outbound_config.of(config).acknowledgement
    address = message.from_address.lower()
    decision = autoreply.decide(enabled=settings.enabled, channel=message.channel,
                                classification=(message.classification or {}).get("kind", ""),
                                address=address,
                                own=rt.config.workspace_for_address(address) is not None)
    if not decision.send:
        return decision.reason
    if session.scalar(select(Identity.bouncing).where(Identity.workspace_id == ticket.workspace_id,
                                                      Identity.kind == "email",
                                                      Identity.value == address)):
        return f"{address} is bouncing"
    now = time.time() if now is None else now
    limits = ((f"ack:{config.slug}:rcpt:{address}", settings.per_recipient),
              (f"ack:{config.slug}:ticket:{ticket.number}", settings.per_ticket))
    for key, window in limits:
        if ratelimit.hit(rt.redis, key, window.limit, window.window_s, now=now):
            return f"rate limit {key} ({window.limit} per {window.window_s} s)"
    return ""


def _store(session, config, message: Message, ticket: Ticket, key: str) -> Message:
    template = outbound_config.of(config).acknowledgement.template(ticket.language)
    values = {"number": ticket.number, "subject": ticket.subject, "workspace": config.name or
              config.slug, "name": message.from_name or message.from_address,
              "token": ticket_token(ticket.number, config.threading.subject_prefix)}
    sender = sender_address(config)
    token = tokens.sign(key, config.slug, ticket.number)
    native_id = tokens.message_id(token, sender.rpartition("@")[2]).strip("<>")
    now = utcnow()
    ack = Message(workspace_id=ticket.workspace_id, ticket_id=ticket.id, direction="out",
                  channel=ticket.channel, native_id=native_id, dedupe_key=f"ack:{ticket.id}",
                  from_name=config.name or config.slug, from_address=sender,
                  to=[message.from_address.lower()], cc=[],
                  subject=_fill(template.subject, values), text=_fill(template.text, values),
                  reply_text="", html="", attachments=[], classification={},
                  author=ACK_AUTHOR, delivery_status="queued", received_at=now.isoformat(),
                  created_at=now)
    session.add(ack)
    session.flush()
    session.add(ThreadKey(workspace_id=ticket.workspace_id, key=threads.mid_key(native_id),
                          ticket_id=ticket.id, strong=True))
    ticket.message_count = (ticket.message_count or 0) + 1
    return ack


def _fill(template: str, values: dict) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a template with unknown placeholders
        return template
