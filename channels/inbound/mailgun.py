"""Mailgun routes (``forward()`` to a URL): the "fully parsed" form and the raw MIME variant.

Parsed posts carry ``message-headers`` (a JSON list of [name, value]), ``body-plain``,
``body-html``, ``attachment-1``..``attachment-N`` files and ``content-id-map``; the message is
rebuilt from them. A route URL ending in ``mime`` makes Mailgun post the original message in
``body-mime`` instead: that is the message itself. Mailgun's own reply trimming
(``stripped-text``) is not used: our reply extraction applies to every channel alike.
Every post is signed: hex HMAC-SHA256 of ``timestamp + token`` with the signing key.
"""
from __future__ import annotations

import re

from channels.common import Unparseable
from channels.inbound.form import FormData
from channels.inbound.mime_builder import Part, build

SIGNATURE_FIELDS = ("timestamp", "token", "signature")
# Headers taken from the top-level fields when message-headers lacks them (or is missing).
FALLBACK_HEADERS = (("From", ("from", "sender")), ("To", ("To", "recipient")),
                    ("Cc", ("Cc",)), ("Subject", ("subject", "Subject")), ("Date", ("Date",)),
                    ("Message-Id", ("Message-Id",)), ("In-Reply-To", ("In-Reply-To",)),
                    ("References", ("References",)))
_ATTACHMENT = re.compile(r"^attachment-(\d{1,4})$")


def is_mime(form: FormData) -> bool:
    return form.has("body-mime")


def problems(form: FormData) -> dict[str, str]:
    """What makes this form no Mailgun post (field -> problem); empty when it is one."""
    found = {}
    if is_mime(form):
        if not form.raw("body-mime").strip():
            found["body-mime"] = "empty"
    elif not (form.raw("from").strip() or form.raw("sender").strip()):
        found["from"] = "missing (neither from nor sender)"
    if not form.raw("recipient").strip():
        found["recipient"] = "missing"
    if form.has("message-headers") and form.json("message-headers", list) is None:
        found["message-headers"] = "not a JSON list"
    return found


def envelope(form: FormData) -> tuple[list[str], str]:
    """(SMTP recipients, SMTP sender) as Mailgun reports them."""
    recipients = [r.strip() for r in form.text("recipient").split(",") if r.strip()]
    return recipients, form.text("sender").strip()


def to_mime(form: FormData) -> bytes:
    """The RFC 5322 message of either variant."""
    if is_mime(form):
        raw = form.raw("body-mime")
        if not raw.strip():
            raise Unparseable("mailgun: empty body-mime")
        return raw
    headers = _headers(form)
    if not headers and not (form.raw("body-plain").strip() or form.raw("body-html").strip()):
        raise Unparseable("mailgun: no headers and no body")
    return build(headers, form.text("body-plain"), form.text("body-html"), _attachments(form))


def _headers(form: FormData) -> list[tuple[str, str]]:
    pairs = [(str(p[0]), str(p[1])) for p in form.json("message-headers", list) or []
             if isinstance(p, (list, tuple)) and len(p) == 2]
    present = {name.lower() for name, _ in pairs}
    for name, sources in FALLBACK_HEADERS:
        value = next((form.text(s) for s in sources if form.raw(s).strip()), "")
        if value and name.lower() not in present:
            pairs.append((name, value))
    return pairs


def _attachments(form: FormData) -> list[Part]:
    content_ids = {str(field): str(cid) for cid, field in
                   (form.json("content-id-map", dict) or {}).items()}
    numbered = sorted(((int(m.group(1)), upload) for upload in form.files
                       if (m := _ATTACHMENT.match(upload.name))), key=lambda pair: pair[0])
    return [Part(upload.data, upload.filename, upload.content_type,
                 content_ids.get(upload.name, "")) for _, upload in numbered]
