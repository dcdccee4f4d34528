"""The parts of a delivery or feedback report, and their text, read without ever raising.

A report is a ``multipart/report`` (or a plain message) whose own leaf parts say what happened;
a returned message inside it is kept whole so that its body is never read as the report's.
Report bodies are often malformed, so every access falls back to raw text.
"""
from __future__ import annotations

from email.message import Message
from itertools import islice

from channels.mail.mime import content_type
from channels.mail.safe_headers import clean_value

TEXT_LIMIT = 200_000      # characters of report text we read; bounces put the facts at the top
NESTING_LIMIT = 20        # MIME depth we descend; deeper trees are junk, not reports
# Report fields are parsed into one header block per recipient, each a few fields long: a part
# of 30,000 blocks or a block of 30,000 fields is junk, and reading all of it cost seconds.
BLOCK_LIMIT = 500         # header blocks of one report part we read
FIELD_LIMIT = 200         # fields of one header block we read
ORIGINAL_TYPES = ("message/rfc822", "message/global")             # the returned message
HEADER_TYPES = ("text/rfc822-headers", "message/rfc822-headers",  # ... or just its headers
                "message/global-headers")
# Leaf parts we read as text; a multipart leaf is one whose boundary never matched.
READABLE_PREFIXES = ("text/", "multipart/")
REPORT_FIELD_TYPES = ("message/delivery-status", "message/global-delivery-status",
                      "message/feedback-report")


def report_parts(message) -> list:
    """The leaf parts of the report itself: nested multiparts are opened, returned messages
    (message/rfc822 and friends) are kept whole, so the original's body is never read as ours.

    Remembered on the message: the checks ask for them several times per mail."""
    cached = getattr(message, "__dict__", {}).get(_PARTS_ATTR)
    if cached is not None:
        return cached
    found: list = []
    _collect(message, found, 0)
    if hasattr(message, "__dict__"):
        message.__dict__[_PARTS_ATTR] = found
    return found


_PARTS_ATTR = "_ticketgate_report_parts"


def find_part(message, *types: str):
    """The first report part of one of ``types`` (never inside a returned message)."""
    return next((p for p in report_parts(message) if content_type(p) in types), None)


def readable_text(message) -> str:
    """The human-readable text of the report (text parts and report fields), size-limited."""
    chunks, size = [], 0
    for part in report_parts(message):
        kind = content_type(part)
        if kind.startswith(READABLE_PREFIXES) and kind not in HEADER_TYPES or \
                kind in REPORT_FIELD_TYPES:
            text = part_text(part)
            if kind == "text/html":
                text = strip_tags(text)
            chunks.append(text)
            size += len(text)
            if size > TEXT_LIMIT:
                break
    return "\n".join(chunks)[:TEXT_LIMIT]


def part_text(part) -> str:
    """A leaf part decoded to text with a charset fallback (Python raises on unknown ones)."""
    payload = payload_of(part)
    if isinstance(payload, list):  # report fields and attached messages are parsed as blocks
        blocks = [b for b in payload[:BLOCK_LIMIT] if isinstance(b, Message)]
        return "\n\n".join(_block_text(block) for block in blocks)[:TEXT_LIMIT]
    try:
        text = part.get_content()
        if isinstance(text, str):
            return text[:TEXT_LIMIT]
    except Exception:
        pass
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        data = str(payload).encode("utf-8", "surrogateescape")
    return _decode_bytes(data, _charset(part))[:TEXT_LIMIT]


def strip_tags(html: str) -> str:
    """``html`` with each tag (``<`` to the next ``>``, no ``<`` inside) replaced by a space.

    Plain string search, linear in the text: a report made of 60,000 tags or of one stray
    "<" costs one pass (a pattern's per-match overhead made the former take a second)."""
    kept, position = [], 0
    while True:
        start = html.find("<", position)
        end = html.find(">", start + 1) if start >= 0 else -1
        if end < 0:
            break
        start = max(start, html.rfind("<", start, end))  # the last "<" before ">" opens it
        kept += [html[position:start], " "]
        position = end + 1
    kept.append(html[position:])
    return "".join(kept)


def payload_of(part):
    """``part.get_payload()``, or None when the part cannot give it."""
    try:
        return part.get_payload()
    except Exception:
        return None


def _collect(part, found: list, depth: int) -> None:
    kind = content_type(part)
    # only containers: get_payload() on a leaf decodes its text with the declared charset
    payload = payload_of(part) if kind.startswith("multipart/") else None
    if depth < NESTING_LIMIT and kind.startswith("multipart/") and isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                _collect(child, found, depth + 1)
    else:
        found.append(part)


def _block_text(block) -> str:
    """A header block (how the parser stores report fields) back as 'Name: value' lines."""
    try:
        lines = [f"{k}: {clean_value(str(v))}"  # raw: report fields are not RFC 2047
                 for k, v in islice(block.raw_items(), FIELD_LIMIT)]
        body = block.get_payload()
        return "\n".join(lines) + ("\n\n" + body if isinstance(body, str) and body else "")
    except Exception:
        return ""


def _charset(part) -> str:
    try:
        return part.get_content_charset() or "utf-8"
    except Exception:
        return "utf-8"


def _decode_bytes(data: bytes, charset: str) -> str:
    # unlike charsets.decode_bytes, no guessing: the declared charset, else UTF-8
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):  # unknown or malformed charset name
        return data.decode("utf-8", errors="replace")
