"""Lifecycle and storing: what a new inbound message does to its ticket, then writing it.

Customer message on answered/resolved -> open; on closed -> the workspace's reopen policy
(reopen, a new linked follow-up ticket, or reopen within N days). Automatic mail (auto-replies,
out-of-office, bounces) never changes state and never creates a ticket.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect

from store import new_rows, repo
from store.models import Identity, Ticket, utcnow
from tickets import threads

REOPENED_BY_CUSTOMER = ("answered", "resolved")


def apply_lifecycle(ctx) -> None:
    if ctx.ticket is None:
        open_ticket(ctx, status="spam" if ctx.event.classification.kind == "spam" else "new")
        return
    if ctx.automatic:
        return
    if ctx.thread_rule == "by_conversation" and ctx.ticket.status in ("resolved", "closed"):
        on_finished_conversation(ctx)
    elif ctx.ticket.status in REOPENED_BY_CUSTOMER:
        repo.set_status(ctx.session, ctx.ticket, "open")
    elif ctx.ticket.status == "closed":
        on_closed(ctx)


def on_finished_conversation(ctx) -> None:
    """A chat or Telegram message to its conversation's resolved/closed ticket: the workspace's
    conversation policy reopens it or starts a new ticket that the conversation moves to."""
    policy = ctx.config.channels.conversation
    choice = policy.on_resolved if ctx.ticket.status == "resolved" else policy.on_closed
    if choice == "reopen":
        repo.set_status(ctx.session, ctx.ticket, "open")
        return
    follow_up(ctx)
    ctx.view.move_thread_key(ctx.workspace.id, threads.conversation_key(ctx.event),
                             ctx.ticket.id)


def on_closed(ctx) -> None:
    policy = ctx.config.reopen
    closed_at = ctx.ticket.closed_at or ctx.ticket.updated_at
    recent = closed_at is not None and utcnow() - _aware(closed_at) <= timedelta(days=policy.days)
    if policy.policy == "reopen" or (policy.policy == "reopen_within" and recent):
        repo.set_status(ctx.session, ctx.ticket, "open")
    else:
        follow_up(ctx)


def follow_up(ctx) -> None:
    """A new ticket for the message, linked to the finished one (inserted at once: the
    conversation's thread key moves to it)."""
    previous = ctx.ticket
    open_ticket(ctx, status="new")
    ctx.ticket.follow_up_of_id = previous.id
    repo.insert_now(ctx.session, ctx.ticket)
    repo.flush(ctx.session)  # written, with its number (the audit entry names it)
    repo.audit(ctx.session, previous, "follow_up", "", str(ctx.ticket.number))


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def open_ticket(ctx, status: str) -> None:
    """A new ticket for the message. It is inserted by ``store`` with what the rules step set
    on it (one INSERT, no UPDATE after it), or earlier when something needs its id. In the
    batch's fast path the INSERT and the number wait for the batch's end (``store.new_rows``)."""
    event, session = ctx.event, ctx.session
    deferred = new_rows.of(session) is not None  # numbered when the batch's rows are written
    number = None if deferred else repo.next_ticket_number(session, ctx.workspace.id)
    ctx.ticket = Ticket(workspace_id=ctx.workspace.id, number=number, subject=event.subject,
                        status=status, channel=event.channel, language=event.language,
                        customer_id=ctx.customer.id if ctx.customer else None,
                        message_count=1)
    _set_defaults(ctx.ticket)
    if not deferred:
        session.add(ctx.ticket)
    ctx.created = True
    ctx.created_event = ("created", "", status, utcnow())


def _set_defaults(ticket: Ticket) -> None:
    """The columns' Python-side defaults, set at once: the rules step reads the new ticket
    (priority, tags, created_at, ...) before the INSERT that would apply them. Written to the
    new (transient) object's state directly: an INSERT reads them from there, and there is
    no history to keep before it."""
    state = ticket.__dict__
    for key, default in _DEFAULTS:
        if state.get(key) is None:
            state[key] = default.arg if default.is_scalar else default.arg(None)


_DEFAULTS = [(attr.key, attr.columns[0].default) for attr in inspect(Ticket).column_attrs
             if attr.columns[0].default is not None
             and (attr.columns[0].default.is_scalar or attr.columns[0].default.is_callable)]


def store(ctx) -> None:
    event, session, ticket = ctx.event, ctx.session, ctx.ticket
    if ticket.id is None:
        repo.insert_now(session, ticket)  # one INSERT, without a flush of the unit of work
    if ctx.created_event:
        kind, old, new, at = ctx.created_event
        ctx.view.add_event(ticket.id, kind, old, new, at=at)
    ctx.view.add_message(message_row(ctx))
    if not ctx.created:  # a new ticket was inserted with its first message counted
        ticket.message_count = (ticket.message_count or 0) + 1
        ticket.updated_at = utcnow()
        ctx.view.add_event(ticket.id, "threaded", "", ctx.thread_rule)
    own = (threads.mid_key(event.native_id), threads.conversation_key(event))
    keys = {key: key in own for key in threads.message_keys(event)}
    ctx.view.add_thread_keys(ctx.workspace.id, ticket.id, keys)
    if not ctx.automatic and ctx.sender_verified:  # a stranger never becomes a participant
        ctx.view.add_participants(ticket.id, participants(ctx), new_ticket=ctx.created)
    if event.classification.kind == "bounce":
        mark_bouncing(ctx)


def message_row(ctx) -> dict:
    event = ctx.event
    return dict(
        workspace_id=ctx.workspace.id, ticket_id=ctx.ticket.id, direction="in",
        channel=event.channel, native_id=event.native_id[:998], dedupe_key=event.dedupe_key,
        from_name=event.sender.name[:300], from_address=event.sender.address[:320],
        to=[a.address for a in event.to], cc=[a.address for a in event.cc],
        subject=event.subject, text=event.text, reply_text=event.reply_text, html=event.html,
        attachments=[{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                      "sha256": a.sha256} for a in event.attachments],
        classification=_classification(event), raw_ref=event.raw_ref, sent_at=event.sent_at,
        received_at=event.received_at, revision=event.revision,
        account=event.account[:100], sender_verified=ctx.sender_verified)


def _classification(event) -> dict:
    c = event.classification
    return {k: v for k, v in vars(c).items() if v}


def participants(ctx) -> list[str]:
    """Customer-side addresses: the sender and whoever they copied (never our own addresses)."""
    addresses = [ctx.event.sender.address] + [a.address for a in ctx.event.cc]
    return [a.lower() for a in addresses if a and not ctx.config.owns(a)]


def mark_bouncing(ctx) -> None:
    """A permanent failure (5.x.x, or no status at all) marks the address; a delay does not."""
    if ctx.event.classification.bounce_status.startswith("4"):
        return
    recipient = ctx.event.classification.bounced_recipient.lower()
    found = ctx.view.identity(ctx.workspace.id, "email", recipient) or repo.identity(
        ctx.session, ctx.workspace.id, "email", recipient)
    if isinstance(found, Identity):
        found.bouncing = True
