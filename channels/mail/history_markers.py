"""Recognizers for quoted history: where an embedded earlier message starts in a reply.

Attribution lines ("On <date>, <name> wrote:", also wrapped over several lines by the client),
forward/original-message banners and Outlook-style header blocks ("From: / Sent: / To: /
Subject:"), each answered as the number of lines it spans (0 when the line starts none).
They look at ``BodyLines.unquoted``, so they also recognize history inside ``>`` quotes.
"""
from __future__ import annotations

from channels.mail.body_lines import BodyLines
from channels.mail.quote_patterns import (ATTRIBUTION_COLONS, ATTRIBUTION_OPENER, BANNER,
                                          DATE_FIRST, ENDS_WITH_ADDRESS, FROM_FIELDS, HEADER_FIELD,
                                          MAX_ATTRIBUTION_CHARS, MAX_ATTRIBUTION_LINES,
                                          MAX_HEADER_BLOCK_LINES, MIN_HEADER_FIELDS, OTHER_FIELDS,
                                          TIME_OF_DAY, TIMEZONE, WROTE, YEAR)


def banner_or_header_block_span(body: BodyLines, i: int) -> int:
    """Number of lines of the banner or header block starting at line ``i`` (0 if none)."""
    line = body.unquoted(i)
    if len(line) <= MAX_ATTRIBUTION_CHARS and BANNER.match(line):
        return 1
    return _header_block_span(body, i)


def _header_block_span(body: BodyLines, i: int) -> int:
    """Lines of an Outlook-style block ("From: / Sent: / To: / Subject:") starting at ``i``:
    field lines up to the next blank line, with at most two wrapped continuation lines after a
    field; it needs a "From" field and ``MIN_HEADER_FIELDS`` fields in all."""
    if _header_field(body.unquoted(i)) is None:
        return 0
    fields, has_from, continuation = 0, False, 0
    end = i
    while end < min(len(body), i + MAX_HEADER_BLOCK_LINES) and not body.blank[end]:
        key = _header_field(body.unquoted(end))
        if key is not None:
            fields += 1
            has_from = has_from or key in FROM_FIELDS
            continuation = 0
        elif continuation < 2:
            continuation += 1
        else:
            break
        end += 1
    return end - i if has_from and fields >= MIN_HEADER_FIELDS else 0


def _header_field(line: str) -> str | None:
    """The known header key of a "Field: value" line, lower-cased; None otherwise."""
    match = HEADER_FIELD.match(line)
    if not match:
        return None
    key = " ".join(match.group("key").lower().split())
    return key if key in FROM_FIELDS or key in OTHER_FIELDS else None


def attribution_span(body: BodyLines, i: int) -> int:
    """Number of lines of the attribution ("On <date>, <name> wrote:") starting at ``i``.

    Clients wrap long attributions, so up to ``MAX_ATTRIBUTION_LINES`` lines are joined. A
    wrapped match is refused when a later line of it could begin the attribution itself: then
    line ``i`` is the customer's text right above it, not its first half."""
    span = _attribution_match(body, i)
    if span > 1:
        for j in range(i + 1, i + span):
            if ATTRIBUTION_OPENER.match(body.unquoted(j)) and _attribution_match(body, j, i + span):
                return 0
    return span


def _attribution_match(body: BodyLines, i: int, end: int | None = None) -> int:
    """Lines of an attribution starting at ``i`` and ending before ``end`` (0 if none)."""
    first = body.unquoted(i)
    if not first or len(first) > MAX_ATTRIBUTION_CHARS or body.code[i]:
        return 0
    if _is_attribution(first, wrapped=False):
        return 1
    limit = min(len(body), i + MAX_ATTRIBUTION_LINES, len(body) if end is None else end)
    if ATTRIBUTION_OPENER.match(first) or "@" in first:
        joined = first
        for j in range(i + 1, limit):
            if body.code[j]:
                break
            joined = f"{joined} {body.unquoted(j)}".rstrip()
            if len(joined) > MAX_ATTRIBUTION_CHARS:
                break
            # beyond one continuation line only a "wrote" verb may end the attribution, so a
            # verb-less date-first line does not swallow the quote's first lines
            if _is_attribution(joined, wrapped=True, verb_required=j - i > 1):
                return j - i + 1
    # Gmail's date-first attribution may lack the colon: "2016-03-03 17:21 GMT+01:00 Name"
    if DATE_FIRST.match(first) and ("@" in first or TIMEZONE.search(first)):
        return 1
    return 0


def _is_attribution(text: str, *, wrapped: bool, verb_required: bool = False) -> bool:
    """Does ``text`` (one line, or several joined) read as an attribution line?"""
    if not _ends_like_attribution(text):
        return False
    address_or_time = "@" in text or bool(TIME_OF_DAY.search(text))
    if not (address_or_time or (not wrapped and YEAR.search(text))):
        return False
    if WROTE.search(text):
        return True
    return not verb_required and bool(DATE_FIRST.match(text) or ENDS_WITH_ADDRESS.search(text))


def _ends_like_attribution(text: str) -> bool:
    """Ends with a colon, or with a dash frame preceded by a space ("... wrote ----")."""
    text = text.rstrip()
    if text.endswith(ATTRIBUTION_COLONS):
        return True
    undashed = text.rstrip("-")
    return len(text) - len(undashed) >= 2 and undashed[-1:].isspace()
