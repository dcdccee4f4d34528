"""Reading a parsed mail robustly: decoded headers, the text and HTML bodies, the attachments.

Real mail breaks every rule: encoded-words split mid-character or in unknown charsets, raw 8-bit
headers, bad base64, missing boundaries, unknown transfer encodings. Nothing here raises on input:
what can be kept is kept. Headers are read from the raw source (``raw_items``) and decoded here,
because the stdlib's header objects raise or give up on exactly the mail we must accept.
"""
from __future__ import annotations

import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.utils import getaddresses

from channels.mail import mime_tree
from channels.mail.charsets import (decode_bytes, decode_part, lenient_b64decode, payload_bytes,
                                    scrub)
from channels.mail.header_index import raw_values
from channels.mail.header_policy import PARSE_POLICY
from channels.mail.linear_regex import linear
from channels.mail.mailbox import plain_mailbox
from channels.mail.mime_tree import MAX_DEPTH, MAX_PARTS, NestedTooDeepDefect, PartsNotReadDefect

MAX_FILENAME_CHARS = 255  # what common file systems take; longer names are cut, extension kept
BODY_TYPES = ("text/plain", "text/html")
DEFAULT_EXTENSIONS = {"message/rfc822": ".eml", "message/global": ".eml", "text/plain": ".txt",
                      "message/delivery-status": ".txt", "text/rfc822-headers": ".txt"}
FALLBACK_TYPE = "application/octet-stream"  # for a Content-Type we cannot read at all
# serialize attached messages as they came: no refolding, no line length limit
RAW_POLICY = policy.compat32.clone(max_line_length=None)
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_STRAY_BREAK = re.compile(r"[\r\n]+")
# RE2: with re, _ADDR_SPEC is quadratic on text without "@"
_ADDR_SPEC = linear(r"[^\s<>,;:\"()]+@[^\s<>,;:\"()]+", ignore_case=False)
_MEDIA_TYPE = linear(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*",
                     ignore_case=False)
_LINE_BREAKS = re.compile(r"[\r\n\t]+")


@dataclass
class MimeAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str = ""


@dataclass
class MimeBody:
    text: str = ""
    html: str = ""
    attachments: list[MimeAttachment] = field(default_factory=list)
    parts_seen: int = 0
    truncated: bool = False  # MAX_PARTS or MAX_DEPTH was hit; the rest was not read


def parse_bytes(raw: bytes) -> EmailMessage:
    """Parse raw mail with the modern policy, within the limits of ``mime_tree``."""
    return mime_tree.parse_bytes(raw, PARSE_POLICY)


# --- headers -------------------------------------------------------------------------------


def header_values(message: Message, name: str) -> list[str]:
    """Every raw value of header ``name``, unfolded, raw 8-bit bytes decoded; encoded-words kept."""
    return [_unfold(_decode_8bit(str(value))) for value in raw_values(message, name)]


def header_text(message: Message, name: str) -> str:
    """The first value of header ``name`` as display text (encoded-words decoded), or ''."""
    values = header_values(message, name)
    return _LINE_BREAKS.sub(" ", decode_words(values[0])).strip() if values else ""


def address_pairs(message: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, address) for every mailbox in the headers ``names``; junk is skipped."""
    values = [value for name in names for value in header_values(message, name)]
    plain = [plain_mailbox(value) for value in values]
    if None not in plain:  # the common case: one plain mailbox per field, no parser needed
        return [pair for pair in plain if pair[1]]
    try:
        pairs = getaddresses(values)
    except Exception:  # the stdlib parser has raised on hostile input in several releases
        pairs = [("", addr) for addr in _ADDR_SPEC.findall(" ".join(values))]
    return [(_LINE_BREAKS.sub(" ", decode_words(name)).strip(), addr.strip())
            for name, addr in pairs if addr.strip()]


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words tolerantly: adjacent words joined before decoding (a
    character may be split across two), unknown charsets guessed, bad base64 padded."""
    out, pending, charset, last_end = [], b"", None, 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[last_end:match.start()]
        word_charset = match.group(1).split("*")[0].lower()  # RFC 2231 language suffix
        if between.strip() or word_charset != charset:
            out.append(decode_bytes(pending, charset))
            pending = b""
            if between.strip() or charset is None:
                out.append(between)
        pending += _decode_word(match.group(2).lower(), match.group(3))
        charset, last_end = word_charset, match.end()
    out.append(decode_bytes(pending, charset))
    out.append(value[last_end:])
    return scrub("".join(out))


def _decode_word(encoding: str, text: str) -> bytes:
    data = text.encode("utf-8", "surrogateescape")
    if encoding == "q":
        return quopri.decodestring(data, header=True)
    return lenient_b64decode(data)


def _decode_8bit(value: str) -> str:
    # BytesParser keeps raw 8-bit header bytes as surrogate escapes: recover and decode them
    if value.isascii() or not re.search(r"[\udc80-\udcff]", value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def _unfold(value: str) -> str:
    if "\n" not in value and "\r" not in value:  # most values: nothing to unfold
        return value
    return _STRAY_BREAK.sub(" ", _FOLD.sub("", value))


# --- bodies and attachments ----------------------------------------------------------------


def extract(message: Message) -> MimeBody:
    """The text and HTML bodies and the attachments of ``message``."""
    body = MimeBody()
    _visit(message, body, depth=0, in_alternative=False)
    body.truncated = body.truncated or _has_defect(message, PartsNotReadDefect)
    return body


def _visit(part: Message, body: MimeBody, depth: int, in_alternative: bool) -> None:
    if body.parts_seen >= MAX_PARTS or depth > MAX_DEPTH:
        body.truncated = True
        return
    body.parts_seen += 1
    ctype = content_type(part)
    # only containers: get_payload() on a leaf decodes it with its (maybe hostile) charset
    children = part.get_payload() if part.is_multipart() else None
    if _has_defect(part, NestedTooDeepDefect):  # unopened: kept whole, as an attachment
        body.truncated = True
        body.attachments.append(_attachment(part, ctype, len(body.attachments) + 1))
    elif ctype.startswith("multipart/") and isinstance(children, list):
        for child in children:  # only direct children are alternatives of each other
            _visit(child, body, depth + 1, ctype == "multipart/alternative")
    elif ctype.startswith("multipart/"):  # boundary missing or never found: keep the raw text
        _add_text(body, "text/plain", decode_part(part), in_alternative)
    elif ctype in BODY_TYPES and not _is_attached(part):
        _add_text(body, ctype, decode_part(part), in_alternative)
    else:
        body.attachments.append(_attachment(part, ctype, len(body.attachments) + 1))


def _has_defect(part: Message, kind: type) -> bool:
    return any(isinstance(defect, kind) for defect in getattr(part, "defects", ()))


def _add_text(body: MimeBody, ctype: str, text: str, in_alternative: bool) -> None:
    kind = "html" if ctype == "text/html" else "text"
    current = getattr(body, kind)
    if not current:
        setattr(body, kind, text)
    elif not in_alternative and text.strip():  # Apple Mail splits a body around inline images
        setattr(body, kind, current.rstrip("\n") + "\n\n" + text)


def _is_attached(part: Message) -> bool:
    return _disposition(part) == "attachment" or bool(filename(part))


def _attachment(part: Message, ctype: str, number: int) -> MimeAttachment:
    data = _message_bytes(part) if part.is_multipart() else payload_bytes(part)
    name = filename(part) or _default_filename(part, ctype, number)
    content_id = next(iter(header_values(part, "content-id")), "").strip().strip("<>").strip()
    disposition = _disposition(part)
    inline = disposition == "inline" or (disposition is None and bool(content_id))
    return MimeAttachment(name, ctype, data, inline, content_id)


def content_type(part: Message) -> str:
    """The part's media type, lowercased; text/plain when absent, as RFC 2045 says.

    Remembered on the part: the adapter and the classifier ask for it many times, and every
    ask re-parses the header through the policy's header registry."""
    cached = part.__dict__.get(_CONTENT_TYPE_ATTR)
    if cached is None:
        cached = part.__dict__[_CONTENT_TYPE_ATTR] = _content_type(part)
    return cached


_CONTENT_TYPE_ATTR = "_ticketgate_content_type"


def _content_type(part: Message) -> str:
    try:
        value = part.get_content_type()
    except Exception:  # header objects raise on some malformed Content-Type values
        return FALLBACK_TYPE
    match = _MEDIA_TYPE.match(value)  # "application/pdf name=x.pdf" (missing ';'), "text/plain>"
    return match.group() if match else FALLBACK_TYPE


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def filename(part: Message) -> str:
    """The part's file name from RFC 2231 / RFC 2047 / raw 8-bit parameters, made safe."""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        if not _may_have_param(part, header, param):
            continue  # most parts: no such parameter, no need to parse the parameter list
        try:
            value = part.get_param(param, header=header)
        except Exception:  # malformed parameter lists
            value = None
        if isinstance(value, tuple):  # RFC 2231: (charset, language, latin-1 of the bytes)
            value = decode_bytes(value[2].encode("latin-1", "replace"), value[0])
        if isinstance(value, str) and value.strip():
            return safe_filename(decode_words(_decode_8bit(value)))
    return ""


def _may_have_param(part: Message, header: str, param: str) -> bool:
    """False when no ``header`` value even mentions ``param`` (so ``get_param`` finds none)."""
    return any(param in str(value).lower() for value in raw_values(part, header))


def safe_filename(name: str) -> str:
    """The last path component of ``name``, without control characters, length capped."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", scrub(name)).replace("\\", "/").rsplit("/", 1)[-1]
    name = name.strip()
    if name in (".", ".."):
        return ""
    stem, dot, ext = name.rpartition(".")
    if len(name) <= MAX_FILENAME_CHARS or not dot or len(ext) > 16:
        return name[:MAX_FILENAME_CHARS]
    return stem[:MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext


def _default_filename(part: Message, ctype: str, number: int) -> str:
    extension = DEFAULT_EXTENSIONS.get(ctype) or mimetypes.guess_extension(ctype) or ".bin"
    payload = part.get_payload() if part.is_multipart() and ctype.startswith("message/") else None
    inner = payload[0] if payload else None  # an empty delivery-status part has no blocks
    subject = header_text(inner, "subject") if isinstance(inner, Message) else ""
    return safe_filename((subject or f"attachment-{number}") + extension)


def _message_bytes(part: Message) -> bytes:
    """An attached message (or delivery-status blocks) as it arrived; a message that was not
    parsed from bytes is written back raw, headers never refolded."""
    source = mime_tree.body_bytes(part)
    if source is not None:
        return source
    chunks = []
    for inner in part.get_payload():
        try:
            chunks.append(inner.as_bytes(policy=RAW_POLICY))
        except Exception:  # an unserializable header: keep the rest of the attachment list
            chunks.append(b"")
    return b"\n".join(chunks)
