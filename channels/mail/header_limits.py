"""Clamp absurd header sections before Python's email package parses them.

Python's header parsing is slow and memory-hungry on pathological fields: a To: with 50,000
addresses took 16 s, a Subject of 50,000 encoded words exhausted the worker's memory, and an
attached message whose Subject held 40,000 words took 40 s to write back. No real mail needs
such fields, so every header section (the top-level one and those of attached messages and
MIME parts, see ``mime_tree``) keeps its first ``MAX_FIELDS`` fields, each cut to
``MAX_FIELD_BYTES``; a field folded over more than ``MAX_FIELD_LINES`` lines is unfolded,
because the parser's cost grows with lines. The raw mail stays untouched in the blob store.
"""
from __future__ import annotations

import re

MAX_FIELD_BYTES = 16 * 1024  # one header field, continuation lines included
MAX_FIELDS = 500             # header fields of one header section
MAX_FIELD_LINES = 100        # continuation lines of one field; real folding needs a handful
HEADER_END = re.compile(rb"\r?\n\r?\n")
# The line break before a line that is no continuation (a literal first: searched fast).
FIELD_BREAK = re.compile(rb"\n(?=[^ \t\r\n])")
FOLD = re.compile(rb"\r?\n(?=[ \t])|\r(?=[ \t])")


def clamp_headers(raw: bytes) -> tuple[bytes, bool]:
    """Return ``(raw with its header section clamped, whether anything was cut)``."""
    end = HEADER_END.search(raw)
    head, body = (raw[:end.start()], raw[end.start():]) if end else (raw, b"")
    clamped, cut = clamp_section(head)
    return (clamped + body, True) if cut else (raw, False)


def clamp_section(head: bytes) -> tuple[bytes, bool]:
    """Return ``(the header section head clamped, whether anything was cut)``.

    Only the first ``MAX_FIELDS`` fields are even looked at: the rest is never split up,
    so a section of millions of tiny fields costs one regular-expression scan."""
    if len(head) <= MAX_FIELD_BYTES and head.count(b"\n") <= MAX_FIELD_LINES:
        return head, False
    breaks = zip(range(MAX_FIELDS), FIELD_BREAK.finditer(head))
    starts = [0] + [found.end() for _, found in breaks]  # leading continuations: a field too
    bounds = starts[:MAX_FIELDS + 1] + ([len(head)] if len(starts) <= MAX_FIELDS else [])
    fields = [head[a:b] for a, b in zip(bounds, bounds[1:])]
    clamped = [_clamp(field) for field in fields]
    cut = bounds[-1] < len(head) or any(c is not f for c, f in zip(clamped, fields))
    return b"".join(clamped), cut


def _clamp(field: bytes) -> bytes:
    if field.count(b"\n") > MAX_FIELD_LINES:
        field = FOLD.sub(b"", field[:MAX_FIELD_BYTES * 4]).rstrip(b"\r\n") + b"\r\n"
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
