"""The contact form's work after parsing, shared by the HTML form and the JSON endpoint.

``accept`` takes a parsed submission through honeypot, validation, the per-address rate limit
and the double-submit guard, builds the raw payload and makes it durable through the one
intake. It returns the receipt reference or raises ``Invalid`` (per-field errors) or an
``ApiError`` (429, 409, 503) that the caller answers as HTML or JSON.

The raw payload queued on ``form`` is one JSON document (UTF-8, sorted keys): the fields, the
attachments (base64, with their sniffed type), remote IP, user agent, origin, referrer,
submission id and ``submitted_at``; ``channels.form.parse`` turns it into a ticket event.
"""
from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

from flask import request
from redis.exceptions import RedisError

from config.channels import Form
from gateway.edges import http
from queues import metrics
from gateway.errors import ApiError
from gateway.edges.form.validate import Submission, check
from queues.intake import now_iso

CHANNEL = "form"
ACCOUNT = "form"            # the channel account of every contact form event
PAYLOAD_VERSION = 1
SUBMITTED_KEY = "ticketgate:form:submitted:"  # + workspace:submission id -> reference
SUBMITTED_TTL_S = 24 * 3600  # a form reloaded later than this is a new submission


class Invalid(Exception):
    """The submission has per-field errors (answered 400)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("invalid submission")
        self.errors = errors


@dataclass
class Receipt:
    reference: str
    enqueued: bool  # False for a honeypot's fake success or a repeated submission


def limit_ip(workspace: str, settings: Form) -> None:
    http.limit(CHANNEL, f"ip:{workspace}:{request.remote_addr or '-'}", settings.per_ip_per_hour)


def accept(workspace: str, settings: Form, sub: Submission, shape_errors: dict[str, str],
           via: str) -> Receipt:
    """Validate and enqueue ``sub``; the rate limit per IP is the caller's (before parsing)."""
    if sub.honeypot:
        metrics.incr(http.runtime().redis, "rejected", CHANNEL)
        return Receipt(secrets.token_hex(6).upper(), enqueued=False)  # looks like a real one
    errors = {**check(sub, settings), **shape_errors}
    if errors:
        metrics.incr(http.runtime().redis, "rejected", CHANNEL)
        raise Invalid(errors)
    http.limit(CHANNEL, f"email:{workspace}:{sub.email}", settings.per_email_per_hour)
    earlier = claim(workspace, sub.submission_id)
    if earlier:
        return Receipt(earlier, enqueued=False)
    try:
        envelope = http.enqueue(CHANNEL, workspace, ACCOUNT, payload(workspace, sub, via),
                                {"submission_id": sub.submission_id, "via": via})
    except ApiError:
        release(workspace, sub.submission_id)
        raise
    reference = http.reference(envelope)
    remember(workspace, sub.submission_id, reference)
    return Receipt(reference, enqueued=True)


def payload(workspace: str, sub: Submission, via: str) -> bytes:
    """The raw payload: everything the worker needs, as one JSON document."""
    document = {
        "v": PAYLOAD_VERSION, "workspace": workspace, "via": via,
        "submission_id": sub.submission_id,
        "name": sub.name, "email": sub.email, "subject": sub.subject, "message": sub.message,
        "attachments": [{"filename": a.filename, "content_type": a.content_type,
                         "size": len(a.data), "data": base64.b64encode(a.data).decode("ascii")}
                        for a in sub.attachments],
        "remote_ip": request.remote_addr or "",
        "user_agent": request.user_agent.string[:500],
        "origin": request.headers.get("Origin", "")[:500],
        "referrer": (request.referrer or "")[:2000],
        "submitted_at": now_iso(),
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")


class AlreadySubmitting(ApiError):
    def __init__(self):
        super().__init__(409, "duplicate_submission",
                         "this form is being submitted already; wait a moment")


def claim(workspace: str, submission_id: str) -> str:
    """'' when ``submission_id`` is new (now claimed); the earlier reference when it is not."""
    if not submission_id:
        return ""
    key = f"{SUBMITTED_KEY}{workspace}:{submission_id}"
    redis = http.runtime().redis
    try:
        if redis.set(key, "", nx=True, ex=SUBMITTED_TTL_S):
            return ""
        earlier = (redis.get(key) or b"").decode()
    except RedisError:
        raise http.Unavailable() from None
    if not earlier:
        raise AlreadySubmitting()
    return earlier


def remember(workspace: str, submission_id: str, reference: str) -> None:
    if submission_id:
        try:
            http.runtime().redis.set(f"{SUBMITTED_KEY}{workspace}:{submission_id}", reference,
                                     ex=SUBMITTED_TTL_S)
        except RedisError:
            pass  # the message is durable; only a later double submit would not be caught


def release(workspace: str, submission_id: str) -> None:
    if submission_id:
        try:
            http.runtime().redis.delete(f"{SUBMITTED_KEY}{workspace}:{submission_id}")
        except RedisError:
            pass  # expires with its TTL


def body_limit(settings: Form, app_limit: int | None) -> int:
    """Largest request body worth reading: every attachment at its limit, base64 in JSON."""
    files = settings.max_attachments * settings.max_attachment_bytes * 4 // 3
    limit = files + 256 * 1024  # the text fields and multipart/JSON overhead
    return min(limit, app_limit) if app_limit else limit
