"""The local outbox (``store.models.OutboxEntry``): mail kept while ``SMTP_RELAY_URL`` was unset,
and how a flush (``workers.outbound.flush``) takes an entry so that no two flushes send it.

An entry is *waiting* while ``sent_at`` is null and its message (the reply or acknowledgement)
still has delivery status ``outbox``. ``claim`` stamps ``sent_at`` with a compare-and-set,
``UPDATE outbox SET sent_at = now WHERE id = :id AND sent_at IS NULL``: exactly one flush sees
one changed row, on SQLite and PostgreSQL alike; the others see none and skip the entry. The
mail then goes to the relay outside any transaction, and ``finish`` marks the message ``sent``;
``give_back`` clears the stamp after a failure (a permanent one marks the message ``failed``,
which ends the waiting). No schema change: while a flush works on an entry, ``sent_at`` holds
the claim's time and the message still says ``outbox``.

A flush killed between claim and finish leaves that pair behind: after ``CLAIM_LEASE_S`` the
entry waits again and is claimed by the same compare-and-set on the stale stamp. So the outbox
is at-least-once like every delivery here: a flush killed after the relay's 250 and before
``finish`` sends that mail once more, with the same Message-ID (clients collapse it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from store.models import Message, OutboxEntry, utcnow
from queues.runtime import Runtime

CLAIM_LEASE_S = 15 * 60   # seconds; far beyond one relay conversation (relay.TIMEOUT_S a step)
MAX_PER_FLUSH = 10_000    # entries one flush looks at; the next flush takes the rest


@dataclass(frozen=True)
class Entry:
    """One waiting entry, as a flush needs it (plain data, no session)."""
    id: int
    workspace: str
    message_id: int | None
    mail_from: str
    recipients: list[str]
    subject: str
    raw_ref: str
    stamp: datetime | None     # ``sent_at`` when read: null, or a dead flush's claim


def waiting(rt: Runtime, workspace: str | None = None) -> list[Entry]:
    """Entries to send, oldest first; of one workspace when ``workspace`` is given."""
    stale_before = utcnow() - timedelta(seconds=CLAIM_LEASE_S)
    query = (select(OutboxEntry).outerjoin(Message, Message.id == OutboxEntry.message_id)
             .where(or_(Message.id.is_(None), Message.delivery_status == "outbox"),
                    or_(OutboxEntry.sent_at.is_(None),
                        and_(Message.id.is_not(None), OutboxEntry.sent_at < stale_before)))
             .order_by(OutboxEntry.id).limit(MAX_PER_FLUSH))
    if workspace is not None:
        query = query.where(OutboxEntry.workspace == workspace)
    with rt.read_sessions() as session:
        return [Entry(e.id, e.workspace, e.message_id, e.mail_from, list(e.recipients or []),
                      e.subject, e.raw_ref, e.sent_at) for e in session.scalars(query)]


def claim(rt: Runtime, entry: Entry) -> datetime | None:
    """Take ``entry`` for this flush: the claim's stamp, or None when another flush took or
    finished it first."""
    stamp = utcnow()
    with rt.sessions.begin() as session:
        taken = session.execute(
            update(OutboxEntry).where(OutboxEntry.id == entry.id, _stamp_is(entry.stamp))
            .values(sent_at=stamp)).rowcount == 1
        # Read after the update: it waited for any flush finishing this entry, so the
        # message's state is that flush's final word.
        if taken and not _message_waits(session, entry.message_id):
            session.execute(update(OutboxEntry).where(OutboxEntry.id == entry.id)
                            .values(sent_at=entry.stamp))
            taken = False
    return stamp if taken else None


def finish(rt: Runtime, entry: Entry, detail: str) -> None:
    """The relay took the mail: the entry is sent, and so is its message."""
    now = utcnow()
    with rt.sessions.begin() as session:
        session.execute(update(OutboxEntry).where(OutboxEntry.id == entry.id)
                        .values(sent_at=now))
        message = _message(session, entry)
        if message is not None:
            message.delivery_status, message.delivery_detail = "sent", detail[:4000]
            message.delivered_at, message.sent_at = now, now.isoformat()
            message.attempts = (message.attempts or 0) + 1


def give_back(rt: Runtime, entry: Entry, claimed_at: datetime, reason: str,
              permanent: bool) -> None:
    """The relay did not take the mail: the entry waits again, unless the failure is
    permanent, which marks its message ``failed`` with the reason."""
    with rt.sessions.begin() as session:
        session.execute(update(OutboxEntry).where(OutboxEntry.id == entry.id,
                                                  OutboxEntry.sent_at == claimed_at)
                        .values(sent_at=None))
        message = _message(session, entry)
        if message is not None:
            message.attempts = (message.attempts or 0) + 1
            message.delivery_detail = f"flush from the outbox failed: {reason}"[:4000]
            if permanent:
                message.delivery_status = "failed"


def _stamp_is(stamp: datetime | None):
    return OutboxEntry.sent_at.is_(None) if stamp is None else OutboxEntry.sent_at == stamp


def _message_waits(session, message_id: int | None) -> bool:
    if message_id is None:
        return True
    return session.scalar(select(Message.delivery_status)
                          .where(Message.id == message_id)) == "outbox"


def _message(session, entry: Entry) -> Message | None:
    return session.get(Message, entry.message_id) if entry.message_id is not None else None
