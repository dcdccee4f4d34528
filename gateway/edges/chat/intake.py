"""The chat edge's one code path: verify a signed chat message, validate it, enqueue it.

Both the webhook (``POST /hooks/chat/<workspace>``) and the widget (which signs server-side)
call ``accept``; nothing reaches the ``chat`` queue without passing it. Checks, in order:

1. the workspace exists and has chat enabled with a secret (else 404);
2. ``X-Ticketgate-Timestamp`` is unix seconds within ``Chat.replay_window_s`` of now, past or
   future (else 401);
3. ``X-Ticketgate-Signature`` is the hex HMAC-SHA256 of ``timestamp + "." + body`` with the
   workspace secret, optionally prefixed ``sha256=``, compared in constant time (else 401);
4. the body is a JSON object matching ``channels.chat.ChatMessage`` (else 400 with ``fields``);
5. the signature was not used before within the window (else 401 ``replayed``);
6. the verified body is made durable on the ``chat`` queue (202; 503 + Retry-After when Redis
   is down), in one Redis transaction with the other requests in flight in this process
   (``queues.http_batch``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import request
from pydantic import ValidationError

from channels import chat
from channels.signature import hmac_sha256_hex, signature_matches
from config.channels import Chat, secret
from gateway.edges import http
from gateway.errors import ApiError

log = logging.getLogger(__name__)
CHANNEL = "chat"
TIMESTAMP_HEADER = "X-Ticketgate-Timestamp"
SIGNATURE_HEADER = "X-Ticketgate-Signature"
SIGNATURE_PREFIX = "sha256="


@dataclass(frozen=True)
class ChatSite:
    """One workspace's chat: its slug, its settings and its signing secret."""
    workspace: str
    settings: Chat
    secret: str


def site_or_404(slug: str) -> ChatSite:
    config = http.workspace_or_404(slug)
    settings = config.channels.chat
    key = secret(settings.secret_env)
    if not settings.enabled:
        raise ApiError(404, "not_found", "chat is not enabled for this workspace")
    if not key:
        log.warning("chat of workspace %s has no secret (%s unset): refused", slug,
                    settings.secret_env or "secret_env")
        raise ApiError(404, "not_found", "chat is not configured for this workspace")
    return ChatSite(slug, settings, key)


def request_body() -> bytes:
    """The raw request body; larger than ``chat.MAX_BODY_BYTES`` is a 413 before reading it."""
    request.max_content_length = chat.MAX_BODY_BYTES
    return request.get_data(cache=False)


def sign(key: str, timestamp: int | str, body: bytes) -> str:
    """The signature a sender puts in ``X-Ticketgate-Signature`` (hex, without prefix)."""
    return hmac_sha256_hex(key, f"{timestamp}.".encode() + body)


def accept(site: ChatSite, body: bytes, timestamp: str | None, signature: str | None,
           source: str) -> tuple[dict, chat.ChatMessage]:
    """Verify, validate and enqueue one chat message; return its envelope and payload."""
    verify(site, body, timestamp, signature)
    message = validated(body)
    once = (f"{CHANNEL}:{site.workspace}", _bare(signature), 2 * site.settings.replay_window_s)
    try:
        return enqueue(site, body, source, once), message
    except http.Replayed:
        http.reject(401, "replayed", "this signed request was already received", CHANNEL)


def enqueue(site: ChatSite, body: bytes, source: str, once: tuple[str, str, int]) -> dict:
    """Make the verified body durable on the chat queue unless its signature was used before
    (``http.Replayed``); 503 when Redis is down."""
    return http.enqueue(CHANNEL, site.workspace, chat.ACCOUNT, body, {"source": source}, once)


def verify(site: ChatSite, body: bytes, timestamp: str | None, signature: str | None) -> None:
    if not timestamp or not signature:
        http.reject(401, "missing_signature",
                    f"send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers", CHANNEL)
    timestamp = timestamp.strip()
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        http.reject(401, "invalid_timestamp", f"{TIMESTAMP_HEADER} must be unix seconds",
                    CHANNEL)
    skew = abs(time.time() - int(timestamp))
    if skew > site.settings.replay_window_s:
        http.reject(401, "stale_timestamp",
                    f"the timestamp is more than {site.settings.replay_window_s} s away from "
                    "now (too old, or in the future): sign the request again", CHANNEL)
    if not signature_matches(site.secret, f"{timestamp}.".encode() + body,
                                  _bare(signature)):
        http.reject(401, "invalid_signature", "the signature does not match the body", CHANNEL)


def _bare(signature: str) -> str:
    signature = signature.strip()
    if signature[:len(SIGNATURE_PREFIX)].lower() == SIGNATURE_PREFIX:
        signature = signature[len(SIGNATURE_PREFIX):]
    return signature.lower()


def json_body(body: bytes) -> dict:
    """The body as a JSON object, else 400 naming the problem (NUL and lone surrogates too:
    chat text is stored as sent)."""
    return http.json_object(body, CHANNEL, strict_text=True)


def validated(body: bytes) -> chat.ChatMessage:
    data = json_body(body)
    try:
        return chat.validate(data)
    except ValidationError as exc:
        http.reject(400, "invalid_parameters", "the chat message is invalid", CHANNEL,
                    chat.field_errors(exc))
