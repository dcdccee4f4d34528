"""The store side of the ops dashboard: quarantine by reason, open SLA breaches, and the IMAP
mailboxes' last fetch, each read in one read-only session.

Quarantine shows what is still waiting for a replay (``replayed_at`` unset): the count per
reason and the newest entries of each reason. Breaches are open tickets (not resolved, closed,
spam or deleted) whose SLA record says ``breached``, oldest first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import QuarantineEntry, Ticket, Workspace
from tickets.routing_metrics import OPEN

ENTRIES_PER_REASON = 10
MAX_DETAIL = 200  # characters of an entry's detail shown
BREACHES_SHOWN = 50


@dataclass(frozen=True)
class Entry:
    id: int
    workspace: str
    channel: str
    detail: str
    created_at: datetime | None


@dataclass
class Reason:
    reason: str
    pending: int
    entries: list[Entry] = field(default_factory=list)


@dataclass(frozen=True)
class Breach:
    workspace: str
    number: int
    subject: str
    priority: str
    assignee: str
    targets: list[str]
    created_at: datetime | None


def quarantine_by_reason(session: Session, per_reason: int = ENTRIES_PER_REASON) -> list[Reason]:
    pending = QuarantineEntry.replayed_at.is_(None)
    counts = session.execute(select(QuarantineEntry.reason, func.count()).where(pending)
                             .group_by(QuarantineEntry.reason)
                             .order_by(func.count().desc(), QuarantineEntry.reason))
    reasons = [Reason(reason, n) for reason, n in counts]
    for reason in reasons:
        rows = session.scalars(select(QuarantineEntry)
                               .where(pending, QuarantineEntry.reason == reason.reason)
                               .order_by(QuarantineEntry.id.desc()).limit(per_reason))
        reason.entries = [Entry(r.id, r.workspace, r.channel, (r.detail or "")[:MAX_DETAIL],
                                r.created_at) for r in rows]
    return reasons


def pending_ids(session: Session, reason: str) -> list[int]:
    """Every entry of ``reason`` not replayed yet, oldest first."""
    return list(session.scalars(select(QuarantineEntry.id)
                                .where(QuarantineEntry.replayed_at.is_(None),
                                       QuarantineEntry.reason == reason)
                                .order_by(QuarantineEntry.id)))


def open_breaches(session: Session, limit: int = BREACHES_SHOWN) -> tuple[int, list[Breach]]:
    """(how many open tickets have a breached SLA, the oldest ``limit`` of them)."""
    breached = (Ticket.status.in_(OPEN), Ticket.sla["breached"].as_boolean())
    total = session.scalar(select(func.count()).select_from(Ticket).where(*breached))
    rows = session.execute(
        select(Workspace.slug, Ticket.number, Ticket.subject, Ticket.priority, Ticket.assignee,
               Ticket.sla, Ticket.created_at)
        .join(Workspace, Workspace.id == Ticket.workspace_id).where(*breached)
        .order_by(Ticket.created_at, Ticket.id).limit(limit))
    return total or 0, [Breach(r.slug, r.number, r.subject or "", r.priority, r.assignee or "",
                               list((r.sla or {}).get("breaches", [])), r.created_at)
                        for r in rows]
