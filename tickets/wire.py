"""The wire format of the REST API (docs/api.md): Ticket, Message, quarantine Entry.

Field names here are a stable contract. ``load_relations`` fetches what a page of tickets refers
to (customers, their identities, numbers of merged/follow-up tickets) in three queries however
long the page is, so listing never does one query per ticket.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import false, literal, select, true, union_all
from sqlalchemy.orm import Session

from store.models import (AuditEntry, Contact, Customer, Identity, Message, QuarantineEntry,
                          Ticket)

DEFAULT_CLASSIFICATION = "normal"  # what a message without a stored classification kind is
SLA_DUES = ("first_response_due", "next_response_due", "resolution_due")
ATTACHMENT_FIELDS = ("filename", "content_type", "size", "sha256")


@dataclass
class Relations:
    """Rows a set of tickets refers to, keyed by id."""
    customers: dict[int, Customer] = field(default_factory=dict)
    identities: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    numbers: dict[int, int] = field(default_factory=dict)
    follow_ups: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


def load_relations(session: Session, tickets: list[Ticket]) -> Relations:
    rel = Relations()
    customer_ids = {t.customer_id for t in tickets if t.customer_id is not None}
    linked = {i for t in tickets for i in (t.merged_into_id, t.follow_up_of_id) if i is not None}
    if customer_ids:
        rel.customers = {c.id: c for c in session.scalars(
            select(Customer).where(Customer.id.in_(customer_ids)))}
        rel.identities = identities_of(session, customer_ids)
    if linked:
        rel.numbers = dict(session.execute(
            select(Ticket.id, Ticket.number).where(Ticket.id.in_(linked))).all())
    ids = [t.id for t in tickets]
    for previous, number in session.execute(
            select(Ticket.follow_up_of_id, Ticket.number)
            .where(Ticket.follow_up_of_id.in_(ids)).order_by(Ticket.number)):
        rel.follow_ups[previous].append(number)
    return rel


def identities_of(session: Session, customer_ids) -> dict[int, list]:
    """The identities of the customers, by customer id, oldest first, then their unverified
    contacts (``verified`` false); empty lists otherwise. One query."""
    proven = select(Identity.customer_id, Identity.kind, Identity.value, Identity.bouncing,
                    true().label("verified"), Identity.id).where(
        Identity.customer_id.in_(customer_ids))
    claimed = select(Contact.customer_id, Contact.kind, Contact.value, literal(False),
                     false(), Contact.id).where(Contact.customer_id.in_(customer_ids))
    both = union_all(proven, claimed).subquery()
    identities: dict[int, list] = defaultdict(list)
    for row in session.execute(select(both).order_by(both.c.verified.desc(), both.c.id)):
        identities[row.customer_id].append(row)
    return identities


def iso(value: datetime | str | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``; naive datetimes (SQLite) are UTC already."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value or None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def customer_json(customer: Customer | None, identities: list) -> dict | None:
    """``identities``: rows of ``identities_of``; ``email`` is never an unverified one."""
    if customer is None:
        return None
    emails = [i.value for i in identities if i.kind == "email" and i.verified]
    return {"id": customer.id, "name": customer.name, "email": emails[0] if emails else None,
            "identities": [{"kind": i.kind, "value": i.value, "bouncing": bool(i.bouncing),
                            "verified": bool(i.verified)} for i in identities]}


def sla_json(sla: dict | None) -> dict:
    sla = sla or {}
    out = {name: iso(sla.get(name)) for name in SLA_DUES}
    out["breached"] = bool(sla.get("breached"))
    return out


def ticket_json(t: Ticket, rel: Relations) -> dict:
    return {
        "number": t.number, "subject": t.subject, "status": t.status, "priority": t.priority,
        "channel": t.channel,
        "customer": customer_json(rel.customers.get(t.customer_id),
                                  rel.identities.get(t.customer_id, [])),
        "message_count": t.message_count, "assignee": t.assignee, "skills": t.skills or {},
        "tags": t.tags or [], "language": t.language or None,
        "created_at": iso(t.created_at), "updated_at": iso(t.updated_at), "sla": sla_json(t.sla),
        "routing": {"reason": t.routing_reason or None},
        "merged_into": rel.numbers.get(t.merged_into_id),
        "follow_up_of": rel.numbers.get(t.follow_up_of_id),
        "follow_ups": rel.follow_ups.get(t.id, []),
    }


def message_json(m: Message) -> dict:
    detail = m.classification or {}
    return {
        "id": m.id, "direction": m.direction, "channel": m.channel, "native_id": m.native_id,
        "from": {"name": m.from_name, "address": m.from_address}, "to": m.to or [],
        "cc": m.cc or [], "bcc": m.bcc or [], "subject": m.subject, "text": m.text,
        "reply_text": m.reply_text,
        "html": m.html,
        "attachments": [{k: a.get(k) for k in ATTACHMENT_FIELDS} for a in m.attachments or []],
        "classification": detail.get("kind") or DEFAULT_CLASSIFICATION,
        "classification_detail": detail, "created_at": iso(m.created_at),
        "author": m.author, "delivery": delivery_json(m),
        "sender_verified": m.sender_verified is not False,  # docs/threading.md
    }


def delivery_json(m: Message) -> dict | None:
    """Where an outbound message is: queued, sent, failed (with the reason) or outbox."""
    if m.direction != "out":
        return None
    return {"status": m.delivery_status, "detail": m.delivery_detail, "attempts": m.attempts,
            "delivered_at": iso(m.delivered_at)}


def entry_json(e: QuarantineEntry) -> dict:
    return {"id": e.id, "channel": e.channel, "native_id": e.native_id, "reason": e.reason,
            "detail": e.detail, "received_at": iso(e.received_at), "size": e.size,
            "replayed_at": iso(e.replayed_at)}


def audit_json(e: AuditEntry) -> dict:
    """One audit-trail entry: ``kind`` of change, ``old`` and ``new`` value, ``actor``, ``at``."""
    return {"id": e.id, "kind": e.kind, "old": e.old, "new": e.new, "actor": e.actor,
            "at": iso(e.at)}
