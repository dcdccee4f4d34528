"""``BodyLines``: the lines of a reply body with the per-line facts every step of ``quotes``
asks about (blank, quoted, inside fenced code, the text without quote markers), computed once.
"""
from __future__ import annotations

from channels.mail.quote_patterns import (CODE_FENCE, INVISIBLE_CHARS, MAX_MARKER_LINE_CHARS,
                                          QUOTE_LINE, QUOTE_PREFIX)


class BodyLines:
    """The lines of a body with the per-line facts the steps share (computed once)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.code = _code_mask(lines)
        self.blank = [_is_blank(line) for line in lines]
        self.quote = [not c and bool(QUOTE_LINE.match(line)) for line, c in zip(lines, self.code)]
        self._unquoted: list[str | None] = [None] * len(lines)
        # next_content[i]: first index >= i holding a non-blank, non-quote line (len(lines) if
        # none) -- lets "what comes after this quote?" be answered without rescanning.
        self.next_content = [len(lines)] * (len(lines) + 1)
        for i in range(len(lines) - 1, -1, -1):
            is_content = not self.blank[i] and not self.quote[i]
            self.next_content[i] = i if is_content else self.next_content[i + 1]

    def __len__(self) -> int:
        return len(self.lines)

    def unquoted(self, i: int) -> str:
        """Line ``i`` without its quote markers, stripped ("" for lines too long to be a
        marker). Cached: every recognizer looks at it."""
        text = self._unquoted[i]
        if text is None:
            line = self.lines[i]
            too_long = len(line) > MAX_MARKER_LINE_CHARS
            text = "" if too_long else QUOTE_PREFIX.sub("", line, count=1).strip()
            self._unquoted[i] = text
        return text

    def next_non_blank(self, i: int) -> int:
        while i < len(self.lines) and self.blank[i]:
            i += 1
        return i


def _is_blank(line: str) -> bool:
    return not line.strip().strip(INVISIBLE_CHARS).strip()


def _code_mask(lines: list[str]) -> list[bool]:
    """True for the lines of closed fenced code blocks (the fences included). An unclosed
    fence is ignored, so a stray ``` cannot hide the quoted history below it."""
    mask = [False] * len(lines)
    fences = [i for i, line in enumerate(lines) if CODE_FENCE.match(line)]
    for opening, closing in zip(fences[::2], fences[1::2]):
        for i in range(opening, closing + 1):
            mask[i] = True
    return mask
