"""SendGrid Inbound Parse: the parsed form (default) and the raw variant ("POST the raw, full
MIME message", field ``email``).

The parsed form carries the original header block (``headers``), the bodies (``text``,
``html``), the decoded ``subject``/``from``/``to``/``cc``, each in the charset named for it in
``charsets`` (a JSON object: field -> charset): those bytes are decoded here with that charset,
never as UTF-8 by default. Attachments are the files ``attachment1``..``attachmentN`` described
by ``attachment-info``. ``envelope`` is the SMTP envelope ({"to": [...], "from": "..."}).
SendGrid signs nothing here: the edge checks HTTP basic auth from the configured URL.
"""
from __future__ import annotations

import re

from channels.common import Unparseable
from channels.inbound.form import FormData, decode
from channels.inbound.mime_builder import Part, build, header_lines, line_name

# decoded fields that stand in for a header missing from the header block
FILL_IN = (("From", "from"), ("To", "to"), ("Cc", "cc"))
_ATTACHMENT = re.compile(r"^attachment(\d{1,4})$")


def is_raw(form: FormData) -> bool:
    return form.has("email")


def problems(form: FormData) -> dict[str, str]:
    """What makes this form no SendGrid post (field -> problem); empty when it is one."""
    found = {}
    if is_raw(form):
        if not form.raw("email").strip():
            found["email"] = "empty"
    elif not (form.raw("from").strip() or form.raw("headers").strip()):
        found["from"] = "missing (neither from nor headers)"
    envelope_ = form.json("envelope", dict)
    if envelope_ is None:
        found["envelope"] = "missing or not a JSON object"
    elif not isinstance(envelope_.get("to", []), list):
        found["envelope"] = "'to' is not a list"
    for name in ("charsets", "attachment-info"):
        if form.has(name) and form.json(name, dict) is None:
            found[name] = "not a JSON object"
    return found


def envelope(form: FormData) -> tuple[list[str], str]:
    """(SMTP recipients, SMTP sender) from the ``envelope`` field."""
    data = form.json("envelope", dict) or {}
    recipients = data.get("to") if isinstance(data.get("to"), list) else [data.get("to")]
    sender = data.get("from") if isinstance(data.get("from"), str) else ""
    return [str(r).strip() for r in recipients if isinstance(r, str) and r.strip()], sender


def to_mime(form: FormData) -> bytes:
    if is_raw(form):
        raw = form.raw("email")
        if not raw.strip():
            raise Unparseable("sendgrid: empty email field")
        return raw
    charsets = {str(k).lower(): str(v) for k, v in (form.json("charsets", dict) or {}).items()}

    def field(name: str) -> str:
        return decode(form.raw(name), charsets.get(name, "utf-8"))

    lines, headers = header_lines(form.raw("headers")), []
    present = {line_name(line) for line in lines}
    if form.has("subject"):  # decoded by SendGrid, in its declared charset: the better source
        lines = [line for line in lines if line_name(line) != "subject"]
        headers.append(("Subject", field("subject")))
    headers += [(header, field(name)) for header, name in FILL_IN
                if header.lower() not in present and form.raw(name).strip()]
    text, html = field("text"), field("html")
    if not lines and not headers and not (text.strip() or html.strip()):
        raise Unparseable("sendgrid: no headers and no body")
    return build(headers, text, html, _attachments(form), raw_lines=lines)


def _attachments(form: FormData) -> list[Part]:
    info = form.json("attachment-info", dict) or {}
    parts = []
    for _, upload in sorted(((int(m.group(1)), u) for u in form.files
                             if (m := _ATTACHMENT.match(u.name))), key=lambda pair: pair[0]):
        about = info.get(upload.name) if isinstance(info.get(upload.name), dict) else {}
        parts.append(Part(upload.data, _text(about.get("filename")) or upload.filename,
                          _text(about.get("type")) or upload.content_type,
                          _text(about.get("content-id"))))
    return parts


def _text(value) -> str:
    return value if isinstance(value, str) else ""
