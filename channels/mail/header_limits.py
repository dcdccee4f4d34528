"""Clamp absurd header sections before Python's email parser sees them.

Python's header parsing is slow and memory-hungry on pathological fields: a To: with 50,000
addresses took 16 s, a Subject of 50,000 encoded words exhausted the worker's memory. No real
mail needs such fields, so each top-level header field is cut to ``MAX_FIELD_BYTES`` and only the
first ``MAX_FIELDS`` fields are kept. The raw mail stays untouched in the blob store.
"""
from __future__ import annotations

import re

MAX_FIELD_BYTES = 16 * 1024  # one header field, continuation lines included
MAX_FIELDS = 500             # header fields of the top-level message
HEADER_END = re.compile(rb"\r?\n\r?\n")
FIELD_START = re.compile(rb"^(?=[^ \t\r\n])", re.MULTILINE)  # a line that is no continuation


def clamp_headers(raw: bytes) -> tuple[bytes, bool]:
    """Return ``(raw with its header section clamped, whether anything was cut)``."""
    end = HEADER_END.search(raw)
    head, body = (raw[:end.start()], raw[end.start():]) if end else (raw, b"")
    if len(head) <= MAX_FIELD_BYTES:
        return raw, False
    fields = [f for f in FIELD_START.split(head) if f]
    clamped = [_clamp(f) for f in fields[:MAX_FIELDS]]
    cut = len(fields) > MAX_FIELDS or any(c is not f for c, f in zip(clamped, fields))
    return b"".join(clamped) + body, cut


def _clamp(field: bytes) -> bytes:
    if len(field) <= MAX_FIELD_BYTES:
        return field
    kept = field[:MAX_FIELD_BYTES]
    # cut after the last complete address/word separator, then end the line properly
    for separator in (b",", b" "):
        position = kept.rfind(separator)
        if position > MAX_FIELD_BYTES // 2:
            kept = kept[:position]
            break
    return kept.rstrip(b"\r\n") + b"\r\n"
