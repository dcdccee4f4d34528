"""Contact form adapter: the JSON payload queued by the form edge -> ``TicketEvent``. Pure.

The payload (see ``gateway/edges/form/flow.py``) holds the visitor's name, email, subject, message,
attachments (base64), submission id and ``submitted_at``. The sender's identity is the email
address, lowercased, so a customer who writes by email and by form is one customer. Nothing is
quoted in a form message: ``reply_text`` is the whole message. A ``[#N]`` subject token is kept
as a hint, but the pipeline never threads a form message by it: anyone can type any address
into a form, so nothing proves the sender takes part in ticket N (docs/threading.md). The
dedupe key is the payload's hash: the same payload delivered twice is one message.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from channels.common import Parsed, Unparseable, content_hash, inline_attachment
from channels.event import Address, ThreadHints, TicketEvent
from channels.mail.subject import find_ticket_number

CHANNEL = "form"
DEFAULT_SUBJECT = "Contact form"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+$")


def parse(raw: bytes, *, workspace: str, account: str, received_at: str, raw_ref: str,
          subject_prefix: str = "") -> Parsed:
    """The ticket event of one form submission; ``Unparseable`` when it cannot be one."""
    document = _document(raw)
    email = _string(document, "email").strip().lower()
    if not _EMAIL.match(email):
        raise Unparseable(f"form payload has no valid sender email: {email[:100]!r}")
    message = _text(_string(document, "message"))
    subject = _line(_string(document, "subject")) or DEFAULT_SUBJECT
    event = TicketEvent(
        workspace=workspace, channel=CHANNEL, account=account,
        native_id=_line(_string(document, "submission_id")) or raw_ref,
        dedupe_key="form:" + hashlib.sha256(raw).hexdigest(),
        received_at=received_at, sent_at=_line(_string(document, "submitted_at")),
        sender=Address(name=_line(_string(document, "name")), address=email),
        subject=subject, text=message, reply_text=message,
        thread=ThreadHints(subject_number=find_ticket_number(subject, subject_prefix)),
        raw_ref=raw_ref, content_hash=content_hash(subject, message))
    parsed = Parsed(event=event)
    for number, item in enumerate(_attachments(document), 1):
        data, filename, content_type = _attachment(item, number)
        inline_attachment(parsed, data, filename, content_type)
    if not message.strip() and not event.attachments:
        raise Unparseable("form payload has neither a message nor attachments")
    return parsed


def _document(raw: bytes) -> dict:
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Unparseable(f"form payload is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Unparseable("form payload is not a JSON object")
    return document


def _string(document: dict, key: str) -> str:
    value = document.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Unparseable(f"form payload field {key!r} is not a string")
    return value.encode("utf-8", "replace").decode("utf-8")


def _text(value: str) -> str:
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _line(value: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub("", value)).strip()


def _attachments(document: dict) -> list:
    items = document.get("attachments") or []
    if not isinstance(items, list):
        raise Unparseable("form payload 'attachments' is not a list")
    return items


def _attachment(item, number: int) -> tuple[bytes, str, str]:
    if not isinstance(item, dict) or not isinstance(item.get("data"), str):
        raise Unparseable(f"form attachment {number} has no base64 data")
    try:
        data = base64.b64decode(item["data"], validate=True)
    except (binascii.Error, ValueError):
        raise Unparseable(f"form attachment {number} is not valid base64") from None
    filename = _line(_string(item, "filename")) or f"attachment-{number}"
    content_type = _line(_string(item, "content_type")).lower() or "application/octet-stream"
    return data, filename, content_type
