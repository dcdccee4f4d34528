"""Raw mail bytes -> the email package's message tree, with bounded work.

The stdlib's ``BytesParser`` reads mail line by line in Python (32 MiB of short lines: over
20 s) and builds every part it meets (500,000 parts: 8.8 s and 394 MB). This parser builds the
same tree -- ``EmailMessage`` objects with the caller's policy, payloads as str with raw 8-bit
bytes kept as surrogate escapes, preambles, epilogues, the stdlib's defects -- but finds the
header sections and the boundaries with regular expressions over the bytes, so its Python work
grows with the number of parts, never with the number of lines. Each header section is
clamped (``header_limits``) and then parsed by the stdlib itself, so headers read exactly as
before, attached messages' included. Limits, each leaving the message readable:

- ``MAX_PARTS`` parts are built; the rest of the mail is not read (``PartsNotReadDefect``);
- containers deeper than ``MAX_DEPTH`` stay unopened leaves (``NestedTooDeepDefect``), which
  the adapter keeps as attachments;
- ``MAX_HEADER_BUDGET`` bytes of header sections in all; parts beyond it are not read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email import errors
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import Policy

from channels.mail.header_limits import clamp_section

MAX_PARTS = 500        # MIME parts built per mail; real mail has tens, more is an attack or a loop
MAX_DEPTH = 20         # multipart/message nesting opened; real mail nests a handful of levels
MAX_HEADER_BUDGET = 1024 * 1024  # bytes of header sections parsed per mail, all parts together
# A header section: lines that start a field ("Name:"), continue one (leading blank) or are a
# Unix "From " line -- the stdlib's own test (email.feedparser.headerRE), one line at a time.
# It is only tried where a line starts, so no run of name characters is scanned twice.
HEADER_LINES = re.compile(
    rb"(?<![^\r\n])(?:(?:From |[\x21-\x39\x3b-\x7e]*+:|[\t ])[^\r\n]*+(?:\r\n|\r|\n|\Z))*+")
LINE_END = re.compile(rb"\r\n|\r|\n")
BLOCK = re.compile(rb"(?:[^\r\n]++(?:\r\n|\r|\n|\Z))++")  # lines up to a blank one
CONTAINER_TYPES = ("multipart/", "message/")


_SOURCE_ATTR = "_ticketgate_body_source"  # (raw, start, end) of the body, for body_bytes()


class PartsNotReadDefect(errors.MessageDefect):
    """MAX_PARTS or MAX_HEADER_BUDGET was reached: the rest of the mail was not read."""


class NestedTooDeepDefect(errors.MessageDefect):
    """A container deeper than MAX_DEPTH: kept as a leaf, its content not opened."""


@dataclass
class _Budget:
    parts: int = MAX_PARTS
    header_bytes: int = MAX_HEADER_BUDGET
    exhausted: bool = False


def parse_bytes(raw: bytes, policy: Policy) -> EmailMessage:
    """The message tree of ``raw``; never slower than linear, never more than the limits."""
    budget = _Budget()
    root = _entity(raw, 0, len(raw), 0, budget, policy, "text/plain")
    if budget.exhausted:
        root.defects.append(PartsNotReadDefect())
    return root


def body_bytes(message) -> bytes | None:
    """The body of a parsed part exactly as it arrived (None when not parsed here): how an
    attached message is kept, without the stdlib writing it back (which refolds its headers,
    quadratically: 16 KB of Subject took 9 s)."""
    source = getattr(message, "__dict__", {}).get(_SOURCE_ATTR)
    return None if source is None else source[0][source[1]:source[2]]


def _entity(raw: bytes, start: int, end: int, depth: int, budget: _Budget, policy: Policy,
            default_type: str) -> EmailMessage:
    budget.parts -= 1
    headers = HEADER_LINES.match(raw, start, end)  # None: "start" is no line start (cut mail)
    head_end = headers.end() if headers else start
    message = _headers(raw[start:head_end], budget, policy)
    message.set_default_type(default_type)
    separator = LINE_END.match(raw, head_end, end)
    if separator is None and head_end < end:
        message.defects.append(errors.MissingHeaderBodySeparatorDefect())
    body = separator.end() if separator else head_end
    message.__dict__[_SOURCE_ATTR] = (raw, body, end)
    kind = _content_type(message)
    if kind.startswith(CONTAINER_TYPES) and depth >= MAX_DEPTH:
        message.defects.append(NestedTooDeepDefect())
        kind = ""
    if kind == "message/delivery-status":
        _delivery_status(message, raw, body, end, depth, budget, policy)
    elif kind.startswith("message/"):
        _attached_message(message, raw, body, end, depth, budget, policy)
    elif kind.startswith("multipart/"):
        _multipart(message, raw, body, end, depth, budget, policy)
    else:
        message.set_payload(_text(raw, body, end))
    return message


def _headers(head: bytes, budget: _Budget, policy: Policy) -> EmailMessage:
    head, _ = clamp_section(head)
    budget.header_bytes -= len(head)
    return _plain_section(head, policy) or BytesHeaderParser(policy=policy).parsebytes(head)


def _plain_section(head: bytes, policy: Policy) -> EmailMessage | None:
    """The message the stdlib's header parser makes of a plain header section, made without
    its line-by-line machinery (its fixed cost was most of a small mail's parse); None for
    any section it would read with a defect or a special case: no fields, a bare CR, a
    continuation line first, a "From " line, a field without a name.

    ``head`` holds only header and continuation lines (``HEADER_LINES``); each field goes
    through the policy's ``header_source_parse`` and ``set_raw`` as in ``FeedParser``."""
    text = head.decode("ascii", "surrogateescape")
    if not text or text[0] in " \t" or text.count("\r") != text.count("\r\n"):
        return None
    lines = text.split("\n")
    last = lines.pop()  # "" after a final line break, else a last line without one
    lines = [line + "\n" for line in lines]
    if last:
        lines.append(last)
    message = policy.message_factory(policy=policy)
    field: list[str] = []
    for line in lines:
        if line[0] in " \t":
            field.append(line)
            continue
        if line.startswith("From ") or line.find(":") <= 0:
            return None
        if field:
            message.set_raw(*policy.header_source_parse(field))
        field = [line]
    message.set_raw(*policy.header_source_parse(field))
    message.set_payload("")  # what the stdlib's headers-only parse leaves
    return message


def _content_type(message: EmailMessage) -> str:
    try:
        return message.get_content_type()
    except Exception:  # header objects raise on some malformed Content-Type values
        return "text/plain"


def _can_read_more(budget: _Budget) -> bool:
    if budget.parts <= 0 or budget.header_bytes <= 0:
        budget.exhausted = True
    return not budget.exhausted


def _attached_message(message, raw, body, end, depth, budget, policy) -> None:
    if not _can_read_more(budget):
        message.set_payload(_text(raw, body, end))
        return
    message.set_payload([_entity(raw, body, end, depth + 1, budget, policy, "text/plain")])


def _delivery_status(message, raw, body, end, depth, budget, policy) -> None:
    """Report fields: blocks of header lines separated by blank lines, one message each."""
    blocks = []
    for block in BLOCK.finditer(raw, body, end):
        if not _can_read_more(budget):
            break
        blocks.append(_entity(raw, block.start(), _strip_eol(raw, block.start(), block.end()),
                              depth + 1, budget, policy, "text/plain"))
    message.set_payload(blocks)


def _multipart(message, raw, body, end, depth, budget, policy) -> None:
    delimiter = _delimiter(message)
    if delimiter is None:
        message.defects.append(errors.NoBoundaryInMultipartDefect())
        message.set_payload(_text(raw, body, end))
        return
    parts, position, closed = _parts(message, delimiter, raw, body, end, depth, budget, policy)
    if position is None:  # no delimiter line, or none read
        if not budget.exhausted:
            message.defects.append(errors.StartBoundaryNotFoundDefect())
            message.epilogue = ""
        message.set_payload([] if budget.exhausted else _text(raw, body, end))
        return
    if not closed and not budget.exhausted:
        message.defects.append(errors.CloseBoundaryNotFoundDefect())
        if position < end and _can_read_more(budget):
            parts.append(_entity(raw, position, end, depth + 1, budget, policy,
                                 _child_type(message)))
    message.set_payload(parts)


def _parts(message, delimiter, raw, body, end, depth, budget, policy):
    """(the parts between delimiter lines, where the last one ended or None, whether the
    closing delimiter was seen); the preamble and epilogue are set on ``message``."""
    parts, position, closed = [], None, False
    for found in delimiter.finditer(raw, body, end):
        if found.start() and raw[found.start() - 1] not in b"\r\n":
            budget.parts -= 1  # "--boundary" inside a line: no delimiter, but work all the same
            continue
        if (position is None and found.group(1)) or not _can_read_more(budget):
            break  # a closing delimiter first (no part ever started), or the limits
        if position is None:
            message.preamble = _text(raw, body, _strip_eol(raw, body, found.start())) or None
        elif found.start() == position:  # adjacent delimiter lines make no part, but count
            budget.parts -= 1
        else:
            parts.append(_entity(raw, position, _strip_eol(raw, position, found.start()),
                                 depth + 1, budget, policy, _child_type(message)))
        position, closed = found.end(), bool(found.group(1))
        if closed:
            message.epilogue = _text(raw, position, end)
            break
    return parts, position, closed


def _delimiter(message: EmailMessage) -> Delimiter | None:
    try:
        boundary = message.get_boundary()
    except Exception:
        boundary = None
    if not boundary:
        return None
    return Delimiter(boundary.encode("utf-8", "surrogateescape"))


# What follows "--boundary" on a delimiter line: "--" when it closes, blanks, the line end.
DELIMITER_END = re.compile(rb"(--)?[ \t]*+(?:\r\n|\r|\n|\Z)")


@dataclass(frozen=True)
class Found:
    """A delimiter line found (the ``re.Match`` methods ``_parts`` uses)."""
    at: int
    stop: int
    closing: bytes | None

    def start(self) -> int:
        return self.at

    def end(self) -> int:
        return self.stop

    def group(self, _number: int) -> bytes | None:
        return self.closing


class Delimiter:
    """The delimiter lines of one boundary, found with ``bytes.find`` and one shared pattern:
    a pattern compiled per boundary (every multipart mail has its own) cost more than the
    rest of the parse. That a delimiter starts a line is checked by the caller."""

    def __init__(self, boundary: bytes):
        self.marker = b"--" + boundary

    def finditer(self, raw: bytes, start: int, end: int):
        position = start
        while True:
            at = raw.find(self.marker, position, end)
            if at < 0:
                return
            tail = DELIMITER_END.match(raw, at + len(self.marker), end)
            if tail is None:
                position = at + 1
                continue
            yield Found(at, tail.end(), tail.group(1))
            position = tail.end()


def _child_type(message: EmailMessage) -> str:
    return "message/rfc822" if _content_type(message) == "multipart/digest" else "text/plain"


def _strip_eol(raw: bytes, start: int, end: int) -> int:
    """``end`` without the line break before it: it belongs to the next delimiter (RFC 2046)."""
    if end - start >= 2 and raw[end - 2:end] == b"\r\n":
        return end - 2
    if end > start and raw[end - 1] in b"\r\n":
        return end - 1
    return end


def _text(raw: bytes, start: int, end: int) -> str:
    # the stdlib's representation: ASCII as is, every 8-bit byte as a surrogate escape
    return raw[start:end].decode("ascii", "surrogateescape")
