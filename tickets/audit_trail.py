"""A ticket's audit trail (``ticket_events``, model ``store.models.AuditEntry``), as the REST API
pages through it: oldest first, keyset-paginated by entry id.

Every status, assignee, priority and tag change, offer, SLA breach, merge and edit is one
entry: ``kind``, ``old`` and ``new`` value, ``actor`` and ``at`` (``store.repo.audit`` writes
them). Entry ids only grow, so a page that starts after the last id seen never skips or repeats
an entry, even while new ones are written.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEntry


def entries(session: Session, ticket_id: int, after: int | None, limit: int) -> list[AuditEntry]:
    """Up to ``limit`` entries of the ticket, oldest first, those after entry id ``after``."""
    query = select(AuditEntry).where(AuditEntry.ticket_id == ticket_id)
    if after is not None:
        query = query.where(AuditEntry.id > after)
    return list(session.scalars(query.order_by(AuditEntry.id).limit(limit)))
