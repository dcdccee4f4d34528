"""A ticket's version, as the REST API's ``ETag`` shows it, and what changed since one.

The version is a digest of what an agent acts on: ``updated_at`` (set by every new message,
merge and patch), ``message_count``, ``status``, ``assignee`` and ``priority``; of a merged
ticket, also of its survivor's (a reply to it lands there). Nothing is stored for it, so no
writer has to remember to bump a counter. The ETag adds the ids of the ticket's latest message
and audit entry at that moment (``<version>.<message id>.<event id>``): a client whose ETag no
longer matches learns which messages and audit entries came since.

Race safety is the caller's: ``check`` must run after ``lock`` (``SELECT ... FOR UPDATE`` of
the ticket that will change on PostgreSQL; SQLite serializes writing transactions anyway), in
the transaction that then makes the change, so of two agents holding the same ETag exactly
one gets through.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import repo
from store.models import AuditEntry, Message, Ticket
from tickets import route_store
from tickets.wire import audit_json, iso

DIGEST_HEX = 16          # hex digits of the version
MAX_SINCE = 50           # messages and audit entries listed in a ticket_changed answer
PREVIEW = 200            # characters of a message's text shown there
ETAG = re.compile(r'^"([0-9a-f]{%d})\.(\d{1,19})\.(\d{1,19})"$' % DIGEST_HEX)
VERSIONED = ("status", "assignee", "priority", "message_count")


@dataclass(frozen=True)
class Tag:
    """A parsed ETag: the version and the latest message and audit entry ids it saw."""
    version: str
    message_id: int
    event_id: int

    def __str__(self) -> str:
        return f'"{self.version}.{self.message_id}.{self.event_id}"'


def parse(value: str) -> Tag | None:
    """An ETag of ours, else None (a weak or foreign tag never matches)."""
    found = ETAG.match(value.strip())
    if found is None:
        return None
    return Tag(found.group(1), int(found.group(2)), int(found.group(3)))


def _fields(ticket: Ticket) -> str:
    return "|".join([iso(ticket.updated_at) or "", str(ticket.message_count or 0),
                     ticket.status or "", ticket.assignee or "", ticket.priority or ""])


def version(session: Session, ticket: Ticket) -> str:
    """The digest of the ticket (and of its survivor, when merged)."""
    parts = [_fields(ticket)]
    if ticket.merged_into_id is not None:
        parts.append(_fields(repo.survivor(session, ticket)))
    return hashlib.sha256("#".join(parts).encode()).hexdigest()[:DIGEST_HEX]


def etag(session: Session, ticket: Ticket) -> Tag:
    """The ticket's ETag now."""
    target = repo.survivor(session, ticket)
    ids = {target.id, ticket.id}
    last_message = session.scalar(select(func.max(Message.id))
                                  .where(Message.ticket_id == target.id))
    last_event = session.scalar(select(func.max(AuditEntry.id))
                                .where(AuditEntry.ticket_id.in_(ids)))
    return Tag(version(session, ticket), last_message or 0, last_event or 0)


def lock(session: Session, ticket: Ticket) -> Ticket:
    """Lock the ticket that a change of ``ticket`` writes (its survivor) and re-read both,
    so ``check`` sees the latest committed version."""
    target = repo.survivor(session, ticket)
    route_store.lock_ticket(session, target.id)
    if target.id != ticket.id:
        session.refresh(ticket)
    return ticket


class Changed(Exception):
    """``If-Match`` no longer matches: ``since`` says what changed (answered as 412)."""

    def __init__(self, since: dict):
        super().__init__("the ticket changed since that version")
        self.since = since


def check(session: Session, ticket: Ticket, wanted: list[str] | None) -> None:
    """Raise ``Changed`` unless one of the ``If-Match`` tags ``wanted`` is the ticket's
    version (``*`` matches any; None: no If-Match, nothing to check)."""
    if wanted is None or "*" in wanted:
        return
    current = version(session, ticket)
    tags = [parse(value) for value in wanted]
    if any(tag is not None and tag.version == current for tag in tags):
        return
    known = next((tag for tag in tags if tag is not None), None)
    raise Changed(since(session, ticket, known))


def since(session: Session, ticket: Ticket, known: Tag | None) -> dict:
    """The ticket's current ETag and values, and (when ``known`` is an ETag of ours) the
    messages and audit entries that came after it, oldest first."""
    target = repo.survivor(session, ticket)
    now = etag(session, ticket)
    answer = {"etag": str(now), "current": {"number": target.number,
                                            **{name: getattr(target, name) for name in VERSIONED},
                                            "updated_at": iso(target.updated_at)},
              "messages": None, "events": None}
    if known is None:
        return answer
    messages = session.scalars(select(Message).where(Message.ticket_id == target.id,
                                                     Message.id > known.message_id)
                               .order_by(Message.id).limit(MAX_SINCE))
    events = session.scalars(select(AuditEntry).where(
        AuditEntry.ticket_id.in_({target.id, ticket.id}), AuditEntry.id > known.event_id)
        .order_by(AuditEntry.id).limit(MAX_SINCE))
    answer["messages"] = [_preview(m) for m in messages]
    answer["events"] = [audit_json(e) for e in events]
    return answer


def _preview(m: Message) -> dict:
    return {"id": m.id, "direction": m.direction, "author": m.author,
            "from": {"name": m.from_name, "address": m.from_address},
            "text": (m.text or "")[:PREVIEW], "created_at": iso(m.created_at)}
