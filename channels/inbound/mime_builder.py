"""Rebuild an RFC 5322 message from a provider's parsed fields: headers, text, HTML, files.

The headers are written back as the provider gave them (one line each, raw UTF-8 where they
are not ASCII, as SMTPUTF8 mail carries them) so the email adapter reads Message-ID, In-Reply-To,
References, Date, From and Subject exactly as it would from the original mail; only the MIME
structure headers (Content-*, MIME-Version) are left out, because the body is rebuilt here with
``email.message.EmailMessage``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from channels.mail.mime_tree import parse_bytes

FALLBACK_TYPE = "application/octet-stream"
STRUCTURE_HEADERS = ("content-", "mime-version")  # written by EmailMessage for the new body
MAX_HEADERS = 1000  # header fields kept; more is abuse (the adapter clamps sizes further)
MAX_HEADER_BLOCK_BYTES = 1024 * 1024  # of a raw header block read (SendGrid's "headers")
_NAME = re.compile(r"^[!-9;-~]{1,100}$")           # RFC 5322 field name: printable, no ':'
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
# Line breaks as str.splitlines() sees them (the email policy refuses a header value with any)
_BREAKS = re.compile("[\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_SERIALIZE = policy.SMTP.clone(max_line_length=None)


@dataclass(frozen=True)
class Part:
    """An attachment to put into the rebuilt message."""
    data: bytes
    filename: str = ""
    content_type: str = FALLBACK_TYPE
    content_id: str = ""


def build(headers: list[tuple[str, str]], text: str, html: str, parts: list[Part],
          raw_lines: list[bytes] = ()) -> bytes:
    """The message bytes: ``raw_lines`` (raw header lines from ``header_lines``, e.g. of
    SendGrid's header block), then ``headers`` (name, value), then the rebuilt MIME body."""
    lines = [line for line in raw_lines if keep_header(line_name(line))]
    for name, value in headers[:MAX_HEADERS]:
        line = header_line(name, value)
        if line:
            lines.append(line)
    body = _body(text, html, parts).as_bytes(policy=_SERIALIZE)
    return b"".join(line + b"\r\n" for line in lines) + body


def keep_header(name: bytes | str) -> bool:
    lowered = (name.decode("latin-1") if isinstance(name, bytes) else name).strip().lower()
    return bool(lowered) and not lowered.startswith(STRUCTURE_HEADERS)


def header_line(name: str, value: str) -> bytes:
    """``Name: value`` as raw bytes, line breaks inside the value made spaces; b'' if unusable."""
    name = str(name).strip()
    if not _NAME.match(name) or not keep_header(name):
        return b""
    value = _BREAKS.sub(" ", str(value)).strip()
    return f"{name}: {value}".encode("utf-8", "replace")


def line_name(line: bytes) -> str:
    """The lowercased field name of a raw header line."""
    return line.split(b":", 1)[0].decode("latin-1").strip().lower()


def header_lines(block: bytes) -> list[bytes]:
    """The unfolded ``Name: value`` lines of a raw header block; junk lines are dropped."""
    block = block[:MAX_HEADER_BLOCK_BYTES].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    lines = (line.replace(b"\x00", b"") for line in _FOLD.sub(b" ", block).split(b"\n"))
    fields = (line for line in lines if _is_field(line))
    return [line for _, line in zip(range(MAX_HEADERS), fields)]


def _is_field(line: bytes) -> bool:
    name, colon, _ = line.partition(b":")
    return bool(colon) and bool(_NAME.match(name.rstrip(b" \t").decode("latin-1")))


def media_type(value: str) -> tuple[str, str]:
    """(maintype, subtype) of a provider's content type; octet-stream when it is not one."""
    value = (value or "").split(";")[0].strip().lower()
    if not _MEDIA_TYPE.match(value) or value.startswith("multipart/"):
        value = FALLBACK_TYPE
    maintype, subtype = value.split("/")
    return maintype, subtype


def _body(text: str, html: str, parts: list[Part]) -> EmailMessage:
    body = EmailMessage()
    text, html = _clean(text), _clean(html)
    if text or not html:
        body.set_content(text)
        if html:
            body.add_alternative(html, subtype="html")
    else:
        body.set_content(html, subtype="html")
    if parts:
        body.make_mixed()
        for part in parts:
            body.attach(_attachment(part))
    return body


def _clean(value: str) -> str:
    # surrogates (from lenient decoding) cannot be encoded; NUL is not text
    return (value or "").encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _attachment(part: Part) -> EmailMessage:
    """One attachment part: base64, or the message itself for attached mail (message/*)."""
    maintype, subtype = media_type(part.content_type)
    if maintype == "message":
        try:
            attachment = _attached_message(part, subtype)
            attachment.as_bytes(policy=_SERIALIZE)  # some junk parses but cannot be written
            return attachment
        except Exception:  # the stdlib raises many kinds on hostile input: keep the bytes
            maintype, subtype = FALLBACK_TYPE.split("/")
    attachment = EmailMessage()
    attachment.set_content(part.data, maintype, subtype)
    return _describe(attachment, part)


def _attached_message(part: Part, subtype: str) -> EmailMessage:
    """The attached message, parsed with the adapter's bounded parser and a policy that never
    refolds headers (the stdlib's parser and compat32 refolding took seconds on junk)."""
    attachment = EmailMessage()
    attachment["Content-Type"] = f"message/{subtype}"
    attachment.set_payload([parse_bytes(part.data, _SERIALIZE)])
    return _describe(attachment, part)


def _describe(attachment: EmailMessage, part: Part) -> EmailMessage:
    filename = _BREAKS.sub(" ", _clean(part.filename)).strip()
    disposition = "inline" if part.content_id else "attachment"
    attachment.add_header("Content-Disposition", disposition,
                          **({"filename": filename} if filename else {}))
    if part.content_id:
        content_id = _BREAKS.sub("", _clean(part.content_id)).strip("<> ")
        attachment["Content-ID"] = "<" + content_id.removeprefix("cid:") + ">"
    return attachment
