"""Edits of stored messages (Telegram ``edited_message``): a newer revision replaces the text.

An edit carries the dedupe key of the message it edits and a ``revision`` (the channel's edit
time). When that message is stored and the revision is newer than the one it holds, its text is
replaced and the ticket's audit trail says so; an older or equal revision (a retried or late
delivery) changes nothing. An edit whose original is not stored yet is stored as the message,
so the original, arriving later, is then a duplicate.
"""
from __future__ import annotations

from sqlalchemy import select

from store import repo
from store.models import Message, Ticket

EDITABLE = ("text", "reply_text", "html", "subject")


def apply_edit(ctx) -> bool:
    """Apply ``ctx.event`` to the stored message; True when it changed something."""
    event = ctx.event
    pending = ctx.view.pending_message(ctx.workspace.id, event.dedupe_key)
    if pending is not None:
        return _update(pending, event)
    message = ctx.session.scalar(select(Message).where(
        Message.workspace_id == ctx.workspace.id, Message.dedupe_key == event.dedupe_key))
    if message is None or not _newer(event.revision, message.revision):
        return False
    for name in EDITABLE:
        setattr(message, name, getattr(event, name))
    message.revision = event.revision
    ticket = ctx.session.get(Ticket, message.ticket_id)
    repo.audit(ctx.session, ticket, "message_edited", "", str(message.id))
    return True


def _update(row: dict, event) -> bool:
    if not _newer(event.revision, row.get("revision", "")):
        return False
    row.update({name: getattr(event, name) for name in EDITABLE}, revision=event.revision)
    return True


def _newer(revision: str, stored: str) -> bool:
    """Revisions are ISO-8601 UTC times or integers as text; compare integers numerically."""
    if revision.isdigit() and (stored.isdigit() or not stored):
        return int(revision) > int(stored or 0)
    return revision > stored
