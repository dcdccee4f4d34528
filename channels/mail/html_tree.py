"""The open elements of mail HTML: implied end tags made explicit, nesting bounded.

``tokens(html)`` is ``html_tokens.raw_tokens`` passed through a ``Shaper``, a small model of
the HTML5 tree builder's stack of open elements. Whatever the stack closes -- by an end tag,
or implicitly (a ``<p>`` closes an open ``p``, an ``<li>`` the previous ``li``, ...) -- comes
out as explicit end tags, innermost first, so the stream is well nested: formatting elements
are closed instead of being re-opened paragraph after paragraph, and an end tag that closes
nothing is dropped. Start tags nested deeper than ``MAX_DEPTH`` are dropped (their text stays).
Every search of the stack is bounded by ``MAX_DEPTH``, so the work stays linear.
"""
from __future__ import annotations

import functools

from channels.mail.html_tokens import MAX_INPUT_CHARS, Tag, raw_tokens

MAX_DEPTH = 100  # open elements; real mail nests tables and quotes a few dozen levels deep

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "param", "source", "track", "wbr", "keygen", "basefont", "bgsound", "frame"})
# Elements that bound the search for an element to close (HTML5 "in scope").
SCOPE = frozenset({"applet", "caption", "html", "table", "td", "th", "marquee", "object",
                   "template", "button"})
# Start tags that close an open <p> first.
CLOSES_P = frozenset({"address", "article", "aside", "blockquote", "center", "details",
                      "dialog", "dir", "div", "dl", "fieldset", "figcaption", "figure", "footer",
                      "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
                      "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
                      "ul", "li", "dd", "dt", "listing", "xmp"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_CELLS = frozenset({"td", "th"})
_SECTIONS = frozenset({"tbody", "thead", "tfoot"})
# start tag -> (open elements it closes, elements where the search for them stops)
IMPLIED_END = {
    "li": (frozenset({"li"}), frozenset({"ul", "ol", "menu"}) | SCOPE),
    "dt": (frozenset({"dd", "dt"}), frozenset({"dl"}) | SCOPE),
    "dd": (frozenset({"dd", "dt"}), frozenset({"dl"}) | SCOPE),
    "tr": (frozenset({"tr"}) | _CELLS, frozenset({"table"}) | _SECTIONS),
    "td": (_CELLS, frozenset({"tr", "table"})),
    "th": (_CELLS, frozenset({"tr", "table"})),
    **dict.fromkeys(_SECTIONS, (_SECTIONS | {"tr"} | _CELLS, frozenset({"table"}))),
    "option": (frozenset({"option"}), frozenset({"select", "datalist"})),
    "a": (frozenset({"a"}), SCOPE),
    "button": (frozenset({"button"}), SCOPE - {"button"}),
}


def tokens(html: str) -> list[Tag | str]:
    """The shaped tokens of ``html``: well nested, bounded in depth and size. The last
    result is remembered: the adapter renders and sanitizes the same body."""
    return _tokens(html[:MAX_INPUT_CHARS])  # the cache keeps no more than that alive


@functools.lru_cache(maxsize=1)
def _tokens(html: str) -> list[Tag | str]:
    shaper, shaped = Shaper(), []
    for token in raw_tokens(html):
        if isinstance(token, str):
            shaped.append(token)
        elif token.end:
            shaper.end(token, shaped)
        else:
            shaper.start(token, shaped)
    return shaped


class Shaper:
    """The stack of open elements, and where each name is open (to find it in O(1))."""

    def __init__(self) -> None:
        self.open: list[str] = []
        self.where: dict[str, list[int]] = {}

    def start(self, tag: Tag, out: list) -> None:
        name = tag.name
        if name in CLOSES_P and self.where.get("p"):
            self._close(("p",), SCOPE, out)
        if name in HEADINGS and self.open and self.open[-1] in HEADINGS:
            self._close(HEADINGS, SCOPE, out)
        if name in IMPLIED_END:
            self._close(*IMPLIED_END[name], out)
        if name in VOID:
            out.append(tag)
        elif len(self.open) < MAX_DEPTH:
            self.where.setdefault(name, []).append(len(self.open))
            self.open.append(name)
            out.append(tag)

    def end(self, tag: Tag, out: list) -> None:
        if tag.name == "br":  # "</br>" is a line break in every browser
            out.append(Tag("br"))
        elif tag.name == "p" and not self.where.get("p"):  # a lone "</p>": an empty paragraph
            out += [Tag("p"), tag]
        elif self.where.get(tag.name):
            self._close((tag.name,), () if tag.name in SCOPE else SCOPE, out)

    def _close(self, names, stops, out: list) -> None:
        """Close the innermost open element named in ``names`` and everything inside it,
        unless an element in ``stops`` is open inside it."""
        target = self._innermost(names)
        if target < 0 or self._innermost(stops) > target:
            return
        while len(self.open) > target:
            name = self.open.pop()
            self.where[name].pop()
            out.append(Tag(name, True))

    def _innermost(self, names) -> int:
        found = -1
        for name in names:
            positions = self.where.get(name)
            if positions and positions[-1] > found:
                found = positions[-1]
        return found
