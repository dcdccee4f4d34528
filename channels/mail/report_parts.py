"""The parts of a delivery or feedback report, and their text, read without ever raising.

A report is a ``multipart/report`` (or a plain message) whose own leaf parts say what happened;
a returned message inside it is kept whole so that its body is never read as the report's.
Report bodies are often malformed, so every access falls back to raw text.
"""
from __future__ import annotations

from email.message import Message

from channels.mail.linear_regex import linear
from channels.mail.mime import content_type
from channels.mail.safe_headers import clean_value

TEXT_LIMIT = 200_000      # characters of report text we read; bounces put the facts at the top
NESTING_LIMIT = 20        # MIME depth we descend; deeper trees are junk, not reports
ORIGINAL_TYPES = ("message/rfc822", "message/global")             # the returned message
HEADER_TYPES = ("text/rfc822-headers", "message/rfc822-headers",  # ... or just its headers
                "message/global-headers")
# Leaf parts we read as text; a multipart leaf is one whose boundary never matched.
READABLE_PREFIXES = ("text/", "multipart/")
REPORT_FIELD_TYPES = ("message/delivery-status", "message/global-delivery-status",
                      "message/feedback-report")
HTML_TAG_RE = linear(r"<[^<>]*>")  # RE2: a stray "<" cannot make the search quadratic


def report_parts(message) -> list:
    """The leaf parts of the report itself: nested multiparts are opened, returned messages
    (message/rfc822 and friends) are kept whole, so the original's body is never read as ours."""
    found: list = []
    _collect(message, found, 0)
    return found


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
                text = HTML_TAG_RE.sub(" ", text)
            chunks.append(text)
            size += len(text)
            if size > TEXT_LIMIT:
                break
    return "\n".join(chunks)[:TEXT_LIMIT]


def part_text(part) -> str:
    """A leaf part decoded to text with a charset fallback (Python raises on unknown ones)."""
    payload = payload_of(part)
    if isinstance(payload, list):  # report fields and attached messages are parsed as blocks
        return "\n\n".join(_block_text(block) for block in payload if isinstance(block, Message))
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


def payload_of(part):
    """``part.get_payload()``, or None when the part cannot give it."""
    try:
        return part.get_payload()
    except Exception:
        return None


def _collect(part, found: list, depth: int) -> None:
    payload = payload_of(part)
    kind = content_type(part)
    if depth < NESTING_LIMIT and kind.startswith("multipart/") and isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                _collect(child, found, depth + 1)
    else:
        found.append(part)


def _block_text(block) -> str:
    """A header block (how the parser stores report fields) back as 'Name: value' lines."""
    try:
        lines = [f"{k}: {clean_value(str(v))}" for k, v in block.raw_items()]  # not RFC 2047
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
