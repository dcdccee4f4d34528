"""Inbound-parse webhooks of mail providers: ``POST /hooks/inbound/<provider>/<workspace>``.

Providers: ``mailgun`` (route ``forward()``; a URL ending in ``/mime`` gets the raw MIME
variant), ``sendgrid`` (Inbound Parse, parsed or raw) and ``postmark`` (inbound JSON). The edge
authenticates (Mailgun's HMAC signature with a replay window and token replay guard; HTTP basic
auth from the configured URL for SendGrid and Postmark, compared in constant time), reads the
post just enough to refuse what is obviously not the provider's, and queues the request body
exactly as received on the ``email`` queue (``meta.format`` names the variant, ``meta.
content_type`` keeps the multipart boundary). The worker (``workers.ingest.inbound``) turns it
into the same email event SMTP mail becomes. Status codes are chosen per provider so that a
provider retries what may succeed later and stops retrying what never will: see
docs/channels/inbound-parse.md.
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, request

from channels import inbound_parse
from channels.signature import secret_matches, signature_matches
from channels.common import Unparseable
from config.channels import secret
from gateway.edges import http
from gateway import json_input
from queues import metrics
from gateway.errors import ApiError

log = logging.getLogger(__name__)
bp = Blueprint("inbound_parse", __name__)
CHANNEL = "email"
FUTURE_SKEW_S = 300  # a Mailgun timestamp this far ahead of our clock is still accepted
# The status that makes each provider stop retrying a post that can never succeed: Mailgun
# retries everything but 2xx and 406, Postmark everything but 200 and 403, SendGrid only 5xx.
REJECT = {"mailgun": 406, "sendgrid": 400, "postmark": 403}
SUCCESS = 200  # Postmark counts only 200 as delivered; Mailgun and SendGrid take any 2xx
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="ticketgate inbound"'}
# Form fields holding JSON: bounded (``gateway.json_input``) before the channel parses them.
JSON_FIELDS = {"mailgun": ("message-headers",),
               "sendgrid": ("envelope", "charsets", "attachment-info")}


@bp.post("/hooks/inbound/<provider>/<workspace>")
@bp.post("/hooks/inbound/<provider>/<workspace>/mime")  # Mailgun: "URL must end with mime"
def receive(provider: str, workspace: str):
    settings = _settings_or_404(provider, workspace)
    if provider != "mailgun":
        _check_basic_auth(settings)
    raw = request.get_data()  # over MAX_CONTENT_LENGTH: 413 before anything is read
    payload = _read(provider, raw)
    if provider == "mailgun":
        return _accept_signed(settings, workspace, raw, payload)
    _check_payload(provider, payload)
    return _accept(provider, workspace, raw, payload)


def _settings_or_404(provider: str, workspace: str):
    config = http.workspace_or_404(workspace)
    settings = getattr(config.channels.inbound, provider, None) \
        if provider in inbound_parse.PROVIDERS else None
    if settings is None:
        raise ApiError(404, "not_found", f"no inbound provider {provider!r} for this workspace")
    return settings


def _check_basic_auth(settings) -> None:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        _refuse(401, "unauthorized", "HTTP basic auth required", BASIC_CHALLENGE)
    user_ok = secret_matches(secret(settings.user_env), auth.username or "")
    password_ok = secret_matches(secret(settings.password_env), auth.password or "")
    if not (user_ok and password_ok):
        _refuse(401, "unauthorized", "wrong user or password", BASIC_CHALLENGE)


def _read(provider: str, raw: bytes) -> inbound_parse.Payload:
    if provider == "postmark":  # bounded nesting and size before the channel's json.loads
        http.json_object(raw, CHANNEL, status=REJECT[provider])
    try:
        return inbound_parse.read(provider, raw, request.headers.get("Content-Type", ""))
    except Unparseable as exc:
        code = "invalid_json" if provider == "postmark" else "invalid_form"
        _refuse(REJECT[provider], code, str(exc))
    except RecursionError:  # a form field's JSON nested past the stack (channels.inbound.form)
        _refuse(REJECT[provider], "invalid_form", "a JSON form field is nested too deeply")


def _check_payload(provider: str, payload: inbound_parse.Payload) -> None:
    found = _json_field_problems(provider, payload.body)
    if not found:
        found = inbound_parse.problems(payload)
    if found:
        _refuse(REJECT[provider], "invalid_payload",
                f"this is not a {provider} inbound post", fields=found)


def _json_field_problems(provider: str, form) -> dict[str, str]:
    found = {}
    for name in (n for n in JSON_FIELDS.get(provider, ()) if form.has(n)):
        try:
            json_input.check_shape(form.text(name))
        except json_input.BadJson as exc:
            found[name] = exc.message
    return found


def _accept_signed(settings, workspace: str, raw: bytes, payload: inbound_parse.Payload):
    """Mailgun: signature, then freshness, then the payload, then the token's first use."""
    form = payload.body
    timestamp, token, signature = (form.text(name).strip() for name in
                                   ("timestamp", "token", "signature"))
    if not (timestamp and token and signature):
        _refuse(401, "missing_signature", "timestamp, token and signature are required")
    if not signature_matches(secret(settings.signing_key_env),
                                  (timestamp + token).encode(), signature):
        _refuse(401, "invalid_signature", "the signature does not match")
    age = time.time() - int(timestamp) if timestamp.isdigit() else None
    if age is None or age > settings.max_age_s or age < -FUTURE_SKEW_S:
        _refuse(406, "stale_timestamp", "the timestamp is outside the accepted window")
    _check_payload("mailgun", payload)
    # The token is remembered in the enqueue's own transaction: a failed enqueue leaves it
    # unused, so the provider's retry (same token) is not mistaken for a replay.
    once = (f"mailgun:{workspace}", token, settings.max_age_s + FUTURE_SKEW_S)
    try:
        return _accept("mailgun", workspace, raw, payload, once)
    except http.Replayed:
        _refuse(406, "replayed", "this token was already used")


def _accept(provider: str, workspace: str, raw: bytes, payload: inbound_parse.Payload,
            once: tuple[str, str, int] | None = None):
    meta = {"format": payload.format, "content_type": request.headers.get("Content-Type", ""),
            "rcpt_to": list(payload.rcpt_to), "mail_from": payload.mail_from}
    envelope = http.enqueue(CHANNEL, workspace, provider, raw, meta, once)
    return http.accepted(envelope, status=SUCCESS)


def _refuse(status: int, code: str, message: str, headers: dict | None = None,
            fields: dict | None = None):
    metrics.incr(http.runtime().redis, "rejected", CHANNEL)
    raise ApiError(status, code, message, fields, headers)
