"""Ticket changes pushed to an external core: signed JSON POSTs with retries.

``queues.outbound.notify_webhook(redis, config, number, change)`` enqueues a push when the workspace has
``outbound.webhook.url``; the job sends a snapshot of the ticket as it is then, with the change
(``{"kind": "created" | "message" | "reply" | "note" | "merged" | ...}``) and an event id that
stays the same across retries (receivers deduplicate by it). Signed like the chat callback:
``X-Ticketgate-Timestamp`` + ``X-Ticketgate-Signature`` (hex HMAC-SHA256 of ``ts.body``).
Posted through the guarded client (``chat_out.post_signed``): an address that is not public is
refused unless the workspace's ``fetch_allow_hosts`` lists the host. A refused address, a 3xx and
a 4xx other than 408/425/429 are logged and dropped (never retried: they cannot get better); other
failures raise, so RQ retries with backoff and finally keeps the job in its failed registry.
"""
from __future__ import annotations

import json
import logging

from sqlalchemy import select

from config import outbound as outbound_config
from config.channels import secret
from tickets.wire import load_relations, ticket_json
from store import repo
from store.models import Message, Ticket
from workers.fetch.guarded import AllowList
from workers.outbound.chat_out import post_signed
from workers.outbound.relay import PermanentFailure, TransientFailure
from queues.runtime import Runtime, runtime

log = logging.getLogger(__name__)


def push(workspace: str, number: int | None, change: dict, event_id: str, occurred_at: str) -> str:
    """RQ job entry point."""
    return push_with(runtime(), workspace, number, change, event_id, occurred_at)


def push_with(rt: Runtime, workspace: str, number: int | None, change: dict, event_id: str,
              occurred_at: str) -> str:
    config = rt.config.workspace(workspace)
    settings = outbound_config.of(config).webhook if config else None
    if settings is None or not settings.url:
        return "skipped: no webhook configured"
    document = {"id": event_id, "workspace": workspace, "occurred_at": occurred_at,
                "change": change, "ticket": _snapshot(rt, workspace, number, change)}
    body = json.dumps(document, sort_keys=True).encode()
    try:
        return post_signed(settings.url, secret(settings.secret_env), body, AllowList.of(config),
                           settings.timeout_s)
    except PermanentFailure as exc:
        log.warning("webhook event %s dropped for good: %s", event_id, exc)
        return f"dropped: {exc}"
    except TransientFailure:
        raise


def _snapshot(rt: Runtime, workspace: str, number: int | None, change: dict) -> dict | None:
    with rt.read_sessions() as session:
        ws = repo.workspace_row(session, workspace)
        if number is None:
            ticket_id = session.scalar(select(Message.ticket_id).where(
                Message.workspace_id == ws.id, Message.dedupe_key == change.get("dedupe_key")))
            ticket = session.get(Ticket, ticket_id) if ticket_id else None
        else:
            ticket = session.scalar(select(Ticket).where(Ticket.workspace_id == ws.id,
                                                         Ticket.number == number))
        if ticket is None:
            return None
        ticket = repo.survivor(session, ticket)
        return ticket_json(ticket, load_relations(session, [ticket]))
