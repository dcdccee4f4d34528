"""Replies to the web chat: a signed JSON POST to the workspace's ``channels.chat.callback_url``.
Without one, the reply is there for ticketgate's own widget, which polls for answers
(``GET /chat/<workspace>/messages``): it counts as sent, and its detail says so.

Signed like the inbound chat webhook: ``X-Ticketgate-Timestamp`` (unix seconds) and
``X-Ticketgate-Signature`` = hex HMAC-SHA256 of ``timestamp + "." + body`` with the chat secret,
so the receiver verifies it with the same code. 2xx: sent. 3xx (redirects are not followed for
a POST) and 4xx but 408/425/429: permanent. Anything else (5xx, refused connection, the deadline
passed): transient, retried with backoff.

The POST goes through the guarded client (``workers.fetch.guarded``): an address that is not
public is refused unless the workspace's ``fetch_allow_hosts`` lists the host, and a refusal is
permanent (the delivery fails with the reason; no retries against a forbidden address).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from config.channels import secret
from channels.signature import hmac_sha256_hex
from workers.fetch import guarded as guarded_fetch
from workers.fetch.guarded import AllowList
from workers.outbound.conversation import conversation_of
from workers.outbound.email_out import Outcome
from workers.outbound.relay import PermanentFailure, TransientFailure

TIMEOUT_S = 10       # seconds for the whole POST (the guarded client's deadline)
TIMESTAMP_HEADER = "X-Ticketgate-Timestamp"
SIGNATURE_HEADER = "X-Ticketgate-Signature"
RETRYABLE_4XX = (408, 425, 429)
WIDGET_ONLY = "no channels.chat.callback_url: shown in the chat widget, which polls for replies"


@dataclass
class ChatPlan:
    url: str
    secret_env: str
    body: bytes
    allow: AllowList = AllowList()


def prepare(rt, session, message, ticket, config, key) -> ChatPlan:
    chat = config.channels.chat
    found = conversation_of(session, ticket.id, "chat")
    if found is None:
        raise PermanentFailure("the ticket has no chat conversation to answer in")
    document = {"type": "reply", "workspace": config.slug, "ticket": ticket.number,
                "conversation_id": found.conversation_id, "in_reply_to": found.reply_to,
                "message_id": str(message.id), "author": message.author,
                "text": message.text, "html": message.html,
                "created_at": message.created_at.isoformat() if message.created_at else None}
    return ChatPlan(chat.callback_url, chat.secret_env, json.dumps(document).encode(),
                    AllowList.of(config))


def signed_headers(secret_value: str, body: bytes, now: float | None = None) -> dict:
    timestamp = str(int(time.time() if now is None else now))
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: hmac_sha256_hex(secret_value, f"{timestamp}.".encode() + body)}


def post_signed(url: str, secret_value: str, body: bytes, allow: AllowList,
                timeout_s: float = TIMEOUT_S) -> str:
    """POST ``body`` signed; returns a short description; raises a failure class."""
    if not secret_value:
        raise TransientFailure("the signing secret is not set in the environment")
    limits = guarded_fetch.Limits(deadline_s=timeout_s, max_redirects=0)
    try:
        answer = guarded_fetch.fetch(url, allow=allow, limits=limits, method="POST", body=body,
                                     headers=signed_headers(secret_value, body),
                                     read_body=False)
    except guarded_fetch.Refused as exc:
        raise PermanentFailure(f"refused: {exc.reason}") from None
    except guarded_fetch.FetchError as exc:
        raise TransientFailure(exc.reason) from exc
    description = f"{_origin(url)} answered {answer.status}"
    if 200 <= answer.status < 300:
        return description
    if 300 <= answer.status < 500 and answer.status not in RETRYABLE_4XX:
        raise PermanentFailure(description)
    raise TransientFailure(description)


def _origin(url: str) -> str:
    """The URL without path, query and credentials: enough to say where, never a secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def send(rt, plan: ChatPlan) -> Outcome:
    if not plan.url:
        return Outcome("sent", WIDGET_ONLY)
    return Outcome("sent", post_signed(plan.url, secret(plan.secret_env), plan.body, plan.allow))
