"""Postmark inbound webhook: one JSON object per mail.

With "include raw email content" on, ``RawEmail`` holds the original message: it is preferred.
Otherwise the message is rebuilt from ``FromFull``/``From``, ``To``, ``Cc``, ``ReplyTo``,
``Subject``, ``Date``, the ``Headers`` list (which carries Message-ID, In-Reply-To, References
and the rest; Postmark's own ``MessageID`` is its id, not the mail's), ``TextBody``,
``HtmlBody`` and ``Attachments`` (base64 ``Content``). ``StrippedTextReply`` is not used: our
reply extraction applies to every channel alike.
"""
from __future__ import annotations

from email.utils import formataddr

from channels.common import Unparseable
from channels.inbound.mime_builder import Part, build
from channels.mail.charsets import lenient_b64decode

TOP_LEVEL = (("To", "To", "ToFull"), ("Cc", "Cc", "CcFull"))
LIST_FIELDS = ("Headers", "Attachments", "ToFull", "CcFull")
STRING_FIELDS = ("From", "To", "Cc", "Subject", "Date", "TextBody", "HtmlBody", "RawEmail",
                 "OriginalRecipient", "ReplyTo", "MessageID", "MailboxHash")


def problems(data: dict) -> dict[str, str]:
    """What makes this JSON object no Postmark inbound post (field -> problem)."""
    found = {name: "must be a string" for name in STRING_FIELDS
             if data.get(name) is not None and not isinstance(data.get(name), str)}
    found |= {name: "must be a list" for name in LIST_FIELDS
              if data.get(name) is not None and not isinstance(data.get(name), list)}
    if data.get("FromFull") is not None and not isinstance(data.get("FromFull"), dict):
        found["FromFull"] = "must be an object"
    if not (_string(data, "RawEmail").strip() or _sender(data)[1]):
        found["From"] = "missing (neither From, FromFull nor RawEmail)"
    for index, item in enumerate(_list(data, "Attachments")):
        if not isinstance(item, dict) or not isinstance(item.get("Content", ""), str):
            found[f"Attachments[{index}]"] = "must be an object with a base64 Content"
    return found


def envelope(data: dict) -> tuple[list[str], str]:
    """(recipients, sender): OriginalRecipient is the address the mail was delivered to."""
    original = _string(data, "OriginalRecipient").strip()
    recipients = [original] if original else [
        item.get("Email") for item in _list(data, "ToFull")
        if isinstance(item, dict) and isinstance(item.get("Email"), str)]
    return [r for r in recipients if r], _sender(data)[1]


def to_mime(data) -> bytes:
    if not isinstance(data, dict):
        raise Unparseable("postmark: the payload is not a JSON object")
    raw = _string(data, "RawEmail")
    if raw.strip():
        return raw.encode("utf-8", "replace")  # lone surrogates (valid JSON) included
    name, address = _sender(data)
    if not address:
        raise Unparseable("postmark: no sender")
    headers = [("From", _mailbox(name, address))]
    headers += [(header, _addresses(data, text, full)) for header, text, full in TOP_LEVEL]
    headers += [("Reply-To", _string(data, "ReplyTo")), ("Subject", _string(data, "Subject")),
                ("Date", _string(data, "Date"))]
    headers = [(n, v) for n, v in headers if v.strip()]
    present = {n.lower() for n, _ in headers}
    headers += [(str(h["Name"]), str(h.get("Value", ""))) for h in _list(data, "Headers")
                if isinstance(h, dict) and isinstance(h.get("Name"), str)
                and h["Name"].strip().lower() not in present]
    return build(headers, _string(data, "TextBody"), _string(data, "HtmlBody"),
                 _attachments(data))


def _sender(data: dict) -> tuple[str, str]:
    full = data.get("FromFull") if isinstance(data.get("FromFull"), dict) else {}
    address = full.get("Email") if isinstance(full.get("Email"), str) else ""
    name = full.get("Name") if isinstance(full.get("Name"), str) else ""
    return name.strip(), (address or _string(data, "From")).strip()


def _addresses(data: dict, text_field: str, full_field: str) -> str:
    text = _string(data, text_field)
    if text.strip():
        return text
    return ", ".join(_mailbox(_str(i.get("Name")), i["Email"]) for i in _list(data, full_field)
                     if isinstance(i, dict) and isinstance(i.get("Email"), str))


def _mailbox(name: str, address: str) -> str:
    if not name.strip():
        return address
    try:
        return formataddr((name, address))
    except (UnicodeError, ValueError):  # an internationalized address: written as it is
        return f'"{name}" <{address}>'


def _attachments(data: dict) -> list[Part]:
    return [Part(lenient_b64decode(_str(item.get("Content")).encode("ascii", "ignore")),
                 _str(item.get("Name")), _str(item.get("ContentType")),
                 _str(item.get("ContentID")))
            for item in _list(data, "Attachments") if isinstance(item, dict)]


def _string(data: dict, name: str) -> str:
    return _str(data.get(name))


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _list(data: dict, name: str) -> list:
    value = data.get(name)
    return value if isinstance(value, list) else []
