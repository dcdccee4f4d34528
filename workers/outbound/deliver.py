"""The delivery job: one stored ``out`` message through its ticket's channel, with its state.

Read in one transaction, sent outside any (no database lock held during SMTP or HTTP), the
result written in a second: ``sent`` (with when), ``outbox`` (kept locally), or ``failed`` with
the reason. A transient failure counts an attempt and raises, so RQ retries with backoff; after
``outbound.max_attempts`` the message is failed and the job stops. A message already sent (a
job run twice) is not sent again. Notes are never sent.

Whatever the stored data holds, the job ends: an exception while *building* the delivery (a
header that cannot carry a filename, a bad address, a missing attachment blob, a bug) fails the
message at once with the exception as the reason; an unexpected exception while *sending* counts
an attempt like a transient failure, so it too ends as ``failed`` after the last attempt. Only a
database or Redis outage is passed through uncounted: it says nothing about the message, and
the work resumes when the dependency returns. A message with attempts is never re-enqueued by the
sweep (``workers.outbound.sweep``), so no path loops forever.
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from config import outbound as outbound_config, signing
from store.models import Message, OutboxEntry, Ticket, utcnow
from workers.outbound import chat_out, email_out, telegram_out
from workers.outbound.relay import PermanentFailure, TransientFailure
from queues.runtime import Runtime, runtime

log = logging.getLogger(__name__)
FINISHED = ("sent", "failed", "outbox")
CHANNELS = {"email": email_out, "form": email_out, "telegram": telegram_out, "chat": chat_out}
OUTAGES = (OperationalError, InterfaceError, RedisError)  # not the message's fault: retry as is


def deliver(message_id: int) -> str:
    """RQ job entry point."""
    return deliver_with(runtime(), message_id)


def deliver_with(rt: Runtime, message_id: int, key: str | None = None) -> str:
    """Deliver the message; returns its delivery status afterwards."""
    try:
        prepared = _prepare(rt, message_id, key or signing.default_key())
        if isinstance(prepared, str):
            return prepared
        channel, plan = prepared
        outcome = _send(rt, channel, plan)
    except PermanentFailure as exc:
        return _record(rt, message_id, "failed", str(exc))
    except TransientFailure as exc:
        if _record(rt, message_id, "retry", str(exc), config_of(rt, message_id)) == "failed":
            return "failed"
        raise
    return _record(rt, message_id, outcome.status, outcome.detail, native_id=outcome.native_id,
                   outbox=outcome.outbox)


def _prepare(rt: Runtime, message_id: int, key: str):
    """(channel, plan), or the status to return when there is nothing to send."""
    with rt.sessions.begin() as session:
        message = session.get(Message, message_id)
        if message is None or message.direction != "out":
            return "skipped"
        if message.delivery_status in FINISHED:
            return message.delivery_status
        try:
            return _plan(rt, session, message, key)
        except (PermanentFailure, TransientFailure, *OUTAGES):
            raise
        except Exception as exc:  # the stored data cannot become a delivery: retrying won't help
            log.exception("message %s: the %s delivery could not be built", message_id,
                          message.channel)
            raise PermanentFailure(f"the {message.channel} delivery could not be built: "
                                   f"{_describe(exc)}") from exc


def _send(rt: Runtime, channel, plan):
    """``channel.send``; an exception it did not classify counts as a transient failure, so the
    attempts run out instead of the job raising (uncounted) forever."""
    try:
        return channel.send(rt, plan)
    except (PermanentFailure, TransientFailure, *OUTAGES):
        raise
    except Exception as exc:
        log.exception("unexpected failure while sending")
        raise TransientFailure(f"unexpected failure while sending: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def _plan(rt: Runtime, session: Session, message: Message, key: str):
    ticket = session.get(Ticket, message.ticket_id)
    config = _workspace_config(rt, session, ticket)
    channel = CHANNELS.get(message.channel)
    if channel is None:
        raise PermanentFailure(f"no outbound delivery for channel {message.channel!r}")
    return channel, channel.prepare(rt, session, message, ticket, config, key)


def _workspace_config(rt: Runtime, session: Session, ticket: Ticket):
    from store.models import Workspace
    slug = session.get(Workspace, ticket.workspace_id).slug
    config = rt.config.workspace(slug)
    if config is None:
        raise PermanentFailure(f"workspace {slug!r} is no longer configured")
    return config


def config_of(rt: Runtime, message_id: int):
    with rt.sessions() as session:
        message = session.get(Message, message_id)
        return _workspace_config(rt, session, session.get(Ticket, message.ticket_id))


def _record(rt: Runtime, message_id: int, status: str, detail: str, config=None,
            native_id: str = "", outbox: dict | None = None) -> str:
    """Write the outcome of one attempt; ``retry`` becomes ``failed`` after the last one."""
    with rt.sessions.begin() as session:
        message = session.get(Message, message_id)
        message.attempts = (message.attempts or 0) + 1
        if status == "retry":
            limit = outbound_config.of(config).max_attempts if config else 1
            status = "failed" if message.attempts >= limit else "queued"
            detail = f"attempt {message.attempts} of {limit}: {detail}"
        message.delivery_status, message.delivery_detail = status, detail[:4000]
        if status in ("sent", "outbox"):
            message.delivered_at = utcnow()
            message.sent_at = message.delivered_at.isoformat()
        if native_id:
            message.native_id = native_id[:998]
        if outbox:
            session.add(OutboxEntry(**outbox))
    log.log(logging.WARNING if status == "failed" else logging.INFO,
            "message %s: %s (%s)", message_id, status, detail[:300])
    return status
