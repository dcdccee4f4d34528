"""Reply trimming: keep only what the customer newly wrote in an email body.

``extract_reply(text)`` takes a plain-text body (``html.to_text`` output included, which
renders blockquotes as ``> `` lines) and removes the quoted history and the signature.

How it works, line by line (no backtracking over the whole text, so it is linear):

1. **History at the very top** (bottom-posting, forwards without a comment): while the body
   *starts* with an attribution line ("On <date>, <name> wrote:"), a forward/original-message
   banner or an Outlook header block, that marker is dropped; an attribution also takes the
   ``>`` quote right below it. What follows is the reply.
2. **Scan down to the first history marker or signature and cut there.** Cut points are the
   attribution line, the banner, the header block ("From: / Sent: / To: / Subject:" and
   their translations), the ``-- `` signature delimiter, a mobile signature ("Sent from my
   iPhone") and an underscore separator line. Markers are also recognized inside ``>``
   quotes; signatures and separators only outside them.
   One exception, the **inline reply**: an attribution followed by a quote that the customer
   then answers below (more text after the quote) is part of the reply; only the attribution
   line is dropped and the scan goes on.
3. **Tidy the tail**: trailing blank lines, decoration lines ("*****", "======") and a
   trailing ``>`` quote (when the customer wrote something above it) are removed.

Fenced code blocks (```` ``` ```` / ``~~~``) are content: nothing inside them is a marker.

This module is the algorithm; ``body_lines`` holds the per-line facts, ``history_markers`` and
``signature_lines`` recognize the cut points, ``quote_patterns`` holds the language tables.
"""
from __future__ import annotations

from channels.mail.body_lines import BodyLines
from channels.mail.history_markers import attribution_span, banner_or_header_block_span
from channels.mail.signature_lines import DECORATION_LINE, is_signature_or_separator

__all__ = ["extract_reply"]

# How much of a body is looked at: the new content is at the top, and no one writes a reply
# this long; the work on longer (hostile) bodies stays bounded (about 0.1 s at worst).
MAX_REPLY_LINES = 3_000
MAX_REPLY_CHARS = 200_000


def extract_reply(text: str) -> str:
    """The new content of an email body: ``text`` without quoted history and signatures.

    Pure function; never raises on any ``str``. Returns ``""`` when nothing new was written.
    """
    text = (text or "")[:MAX_REPLY_CHARS]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n", MAX_REPLY_LINES)
    lines = lines[:MAX_REPLY_LINES]
    body = BodyLines(lines)
    start = _skip_leading_history(body)
    kept = _keep_until_history(body, start)
    kept = _trim_tail(body, kept)
    return "\n".join(lines[i] for i in kept).rstrip()


# ---------------------------------------------------------------------------------------------
# The three steps


def _skip_leading_history(body: BodyLines) -> int:
    """Index of the first line after history markers that open the body (step 1)."""
    i = body.next_non_blank(0)
    while i < len(body) and not body.code[i]:
        span = attribution_span(body, i)
        if span:
            # the quote below an opening attribution is what the customer replied to
            i = body.next_content[i + span]
        else:
            span = banner_or_header_block_span(body, i)
            if not span:
                break
            i += span
        i = body.next_non_blank(i)
    return i


def _keep_until_history(body: BodyLines, start: int) -> list[int]:
    """Indices of the lines from ``start`` up to the first cut point (step 2)."""
    kept: list[int] = []
    i = start
    while i < len(body):
        if body.code[i]:
            kept.append(i)
            i += 1
            continue
        if not body.quote[i] and is_signature_or_separator(body.lines[i]):
            break
        span = attribution_span(body, i)
        if span and _answered_inline(body, i + span):
            i += span  # inline reply: drop the attribution, keep the quote and the answers
            continue
        if span or banner_or_header_block_span(body, i):
            break
        kept.append(i)
        i += 1
    return kept


def _trim_tail(body: BodyLines, kept: list[int]) -> list[int]:
    """``kept`` without trailing blank, decoration and (after text) quoted lines, and without
    leading blank lines (step 3)."""
    kept = list(kept)
    # the loop below stops at the first text line, so this stays true while it runs
    has_text = any(not body.blank[i] and not body.quote[i] and not _is_decoration(body, i)
                   for i in kept)
    while kept:
        last = kept[-1]
        if not (body.blank[last] or _is_decoration(body, last) or (has_text and body.quote[last])):
            break
        kept.pop()
    first = next((n for n, i in enumerate(kept) if not body.blank[i]), len(kept))
    return kept[first:]


def _is_decoration(body: BodyLines, i: int) -> bool:
    return not body.code[i] and bool(DECORATION_LINE.match(body.lines[i]))


def _answered_inline(body: BodyLines, after: int) -> bool:
    """Is the attribution ending before ``after`` followed by a quote and then by the
    customer's own text (an inline / interleaved reply) rather than by more history?"""
    first = body.next_non_blank(after)
    if first >= len(body) or not body.quote[first]:
        return False
    answer = body.next_content[first]
    if answer >= len(body):
        return False
    if body.code[answer]:
        return True
    more_history = (
        is_signature_or_separator(body.lines[answer]) or _is_decoration(body, answer)
        or attribution_span(body, answer) or banner_or_header_block_span(body, answer)
    )
    return not more_history
