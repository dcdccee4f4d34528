"""What every HTTP edge (form, chat, Telegram, inbound-parse webhooks) shares.

An edge authenticates, validates cheaply, makes the raw request durable through the one intake
(concurrent requests of a process share one Redis transaction: ``queues.http_batch``) and
answers: ``202`` with a reference once Redis has it, ``503`` with ``Retry-After`` when it
does not (the sender retries, nothing is lost). Signature checks are constant-time; replay guards
for signatures, provider tokens and update ids are checked and remembered with the enqueue
(``enqueue(..., once=...)``).
"""
from __future__ import annotations

import hashlib

from flask import current_app, jsonify
from redis.exceptions import RedisError

from gateway import app_runtime, json_input
from gateway.errors import RETRY_AFTER_S, ApiError
from queues import http_batch, metrics, ratelimit
from queues.http_batch import Nonce, ThreadGroupCommit
from queues.intake import Intake, IntakeUnavailable, Submission

NONCE_KEY = "ticketgate:nonce:"  # + scope + value: a token or signature already used


def runtime():
    return app_runtime.runtime()


def intake() -> Intake:
    app = current_app
    if "ticketgate_intake" not in app.extensions:
        app.extensions["ticketgate_intake"] = Intake(runtime().redis)
    return app.extensions["ticketgate_intake"]


def workspace_or_404(slug: str):
    config = runtime().config.workspace(slug)
    if config is None:
        raise ApiError(404, "not_found", "no such workspace")
    return config


Replayed = http_batch.Replayed  # raised by ``enqueue`` for a used nonce: callers catch it


def group() -> ThreadGroupCommit:
    """This app's group commit: edge requests in flight in this process share one write."""
    return current_app.extensions.setdefault("ticketgate_group", ThreadGroupCommit())


def enqueue(channel: str, workspace: str, account: str, raw: bytes,
            meta: dict | None = None, once: tuple[str, str, int] | None = None) -> dict:
    """Make ``raw`` durable (sharing the Redis transaction with the other edge requests in
    flight); raise ``Unavailable`` (answered 503) when Redis is down. ``once`` = (scope,
    value, ttl_s) is a replay guard checked in the same round trip as the batch: a value used
    before raises ``Replayed`` and nothing is enqueued."""
    nonce = Nonce(nonce_key(once[0], once[1]), once[2]) if once else None
    submission = Submission(channel, workspace, account, raw, meta or {})
    try:
        return group().submit(intake(), submission, nonce)
    except IntakeUnavailable:
        metrics.incr(runtime().redis, "enqueue_failures", channel)
        raise Unavailable() from None


def accepted(envelope: dict, status: int = 202):
    """The answer to an accepted request: the reference the sender may quote later."""
    response = jsonify({"status": "accepted", "reference": reference(envelope)})
    response.status_code = status
    return response


def reference(envelope: dict) -> str:
    """A short, stable receipt reference for one accepted input (its raw payload's hash)."""
    return envelope["raw_ref"][:12].upper()


class Unavailable(ApiError):
    def __init__(self):
        super().__init__(503, "unavailable", "the queue is unavailable, retry later",
                         headers={"Retry-After": str(RETRY_AFTER_S)})


class RateLimited(ApiError):
    def __init__(self, retry_after_s: float, fields: dict | None = None):
        super().__init__(429, "rate_limited", "too many requests, retry later", fields,
                         headers={"Retry-After": str(int(retry_after_s))})


def reject(status: int, code: str, message: str, channel: str, fields: dict | None = None):
    """Count a refused request and raise its JSON error."""
    metrics.incr(runtime().redis, "rejected", channel)
    raise ApiError(status, code, message, fields)


def limit(channel: str, key: str, per_hour: int) -> None:
    """Raise ``RateLimited`` (429) when ``key`` made more than ``per_hour`` requests."""
    try:
        wait = ratelimit.hit(runtime().redis, f"{channel}:{key}", per_hour, 3600)
    except RedisError:
        raise Unavailable() from None
    if wait:
        metrics.incr(runtime().redis, "rejected", channel)
        raise RateLimited(wait)


def json_object(body: bytes, channel: str, strict_text: bool = False,
                status: int = 400) -> dict:
    """The request body as a JSON object (``gateway.json_input``), or a 400 (``status``) that
    names what is wrong with it."""
    try:
        data = json_input.parse(body, strict_text)
    except json_input.BadJson as exc:
        reject(status, exc.code, exc.message, channel, exc.fields)
    if not isinstance(data, dict):
        reject(status, "invalid_json", "the body must be a JSON object", channel,
               {"body": "expected a JSON object"})
    return data


def nonce_key(scope: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    return NONCE_KEY + scope + ":" + digest
