"""HTML as a stream of tokens, in linear time and bounded: what ``html`` renders and sanitizes.

Both HTML parsers we had are unsafe on hostile mail. Python's ``HTMLParser`` rescans
unfinished constructs (``<a`` x 100,000: 37.8 s) and raises ``AssertionError`` on some
(``<![ ``); html5ever, inside nh3, is quadratic in nesting depth (``<div>`` x 200,000:
464 s), re-opens formatting elements without end (87 KB of ``<p><b title=N>x</p>`` became
156 MB) and is slow on ``&`` in one text. So mail HTML goes through this tokenizer first:

- it follows the HTML5 tokenizer's boundaries (a tag runs to its ``>``, quoted attribute values
  included; an unfinished tag, comment or raw-text element swallows the rest of the input)
  with possessive regular expressions, so each character is looked at a bounded number of
  times;
- ``html_tree.Shaper`` keeps the open elements (with the common implied end tags) and turns
  every close into explicit end tags, so no formatting element stays open to be re-opened,
  and drops start tags nested deeper than ``MAX_DEPTH`` (their text is kept);
- after ``MAX_INPUT_CHARS`` of input, ``MAX_MARKUP`` tags/comments or ``MAX_TEXT_CHARS`` of
  text the rest is cut; attribute values over ``MAX_ATTRIBUTE_CHARS`` (inline ``data:``
  images, junk) are dropped.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import NamedTuple

MAX_INPUT_CHARS = 4_000_000   # HTML read per mail; big newsletters are a few hundred KB
MAX_MARKUP = 20_000           # tags, comments and declarations read per mail (Outlook: ~5/line)
MAX_TEXT_CHARS = 1_000_000    # characters of text read per mail
MAX_ATTRIBUTE_CHARS = 8192    # longer attribute values are dropped (data: images, junk)

_WS = "\t\n\f\r "
# Where markup can start: "<" followed by a letter, "/", "!" or "?"; any other "<" is text.
MARKUP_START = re.compile(r"<[A-Za-z/!?]")
_ATTRIBUTE = (rf"[^{_WS}/>][^{_WS}/>=]*+(?:[{_WS}]*+=[{_WS}]*+"
              rf"(?:\"[^\"]*+\"?|'[^']*+'?|[^{_WS}>]*+))?")
# A start or end tag; group 4 is empty when the input ends inside the tag.
TAG = re.compile(rf"<(/?)([A-Za-z][^{_WS}/>]*+)((?:[{_WS}/]++|{_ATTRIBUTE})*+)(>?)")
ATTRIBUTE = re.compile(rf"([^{_WS}/>][^{_WS}/>=]*+)(?:[{_WS}]*+=[{_WS}]*+"
                       rf"(\"[^\"]*+\"?|'[^']*+'?|[^{_WS}>]*+))?")
# Elements whose content is text up to their own end tag (HTML5 raw text and RCDATA).
RAW_TEXT = ("script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes",
            "noscript")
_ABRUPT_COMMENT = re.compile(r"<!---?>")  # "<!-->" and "<!--->" are whole (empty) comments
_RAW_END = {name: re.compile(rf"</{name}(?=[{_WS}/>])", re.IGNORECASE) for name in RAW_TEXT}


class Tag(NamedTuple):
    """A start or end tag; ``attributes`` are read from ``source`` only when asked for."""
    name: str
    end: bool = False
    source: str = ""

    def attributes(self) -> list[tuple[str, str]]:
        """(lower-cased name, decoded value) pairs, overlong values dropped."""
        found = []
        for match in ATTRIBUTE.finditer(self.source):
            value = _unquote(match.group(2) or "")
            if len(value) <= MAX_ATTRIBUTE_CHARS:
                found.append((match.group(1).lower(), unescape(value)))
        return found

    def attribute(self, name: str) -> str:
        return next((value for key, value in self.attributes() if key == name), "")


def _unquote(value: str) -> str:
    quote = value[:1]
    if quote not in ("'", '"'):
        return value
    return value[1:-1] if len(value) > 1 and value.endswith(quote) else value[1:]


def raw_tokens(html: str) -> Iterator[Tag | str]:
    """Tags and (entity-decoded) text of ``html``, cut at the limits, not yet shaped."""
    html = html[:MAX_INPUT_CHARS]
    position, markup, text_left = 0, 0, MAX_TEXT_CHARS
    while position < len(html) and markup < MAX_MARKUP and text_left > 0:
        found = MARKUP_START.search(html, position)
        start = found.start() if found else len(html)
        if start > position:
            text = html[position:start][:text_left]
            text_left -= len(text)
            yield unescape(text)
        if found is None:
            return
        markup += 1
        found, position = _markup(html, start)
        yield from found
        if position < 0:  # the input ends inside this markup: HTML5 drops it
            return


def _markup(html: str, start: int) -> tuple[list[Tag | str], int]:
    """The tokens of the markup at ``start`` and where the text goes on (-1: nowhere)."""
    tag = TAG.match(html, start)
    if tag is not None:
        if not tag.group(4):
            return [], -1
        token = Tag(tag.group(2).lower(), bool(tag.group(1)), tag.group(3))
        if token.end or token.name not in _RAW_END:
            return [token], tag.end()
        return _raw_text(html, token, tag.end())
    if html.startswith("<!--", start):
        abrupt = _ABRUPT_COMMENT.match(html, start)
        close = abrupt.end() - 3 if abrupt else html.find("-->", start + 4)
        return [], -1 if close < 0 else close + 3
    close = html.find(">", start + 2)  # doctype, CDATA, <?...>, "</ ...>": bogus comments
    return [], -1 if close < 0 else close + 1


def _raw_text(html: str, tag: Tag, start: int) -> tuple[list[Tag | str], int]:
    end = _RAW_END[tag.name].search(html, start)
    close = html.find(">", end.end()) if end else -1
    if close < 0:
        return [tag], -1
    content = html[start:end.start()][:MAX_TEXT_CHARS]
    if tag.name in ("title", "textarea"):
        content = unescape(content)
    closing = Tag(tag.name, True)
    return ([tag, content, closing] if content else [tag, closing]), close + 1
