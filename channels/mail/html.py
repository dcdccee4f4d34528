"""HTML mail bodies: a sanitized copy for display and a readable plain-text rendering.

``sanitize`` keeps a conservative allowlist (nh3): no scripts, styles, forms or event handlers;
links get ``rel="noopener noreferrer"``; images may point at ``cid:`` inline parts.
``to_text`` renders blocks as lines and blockquotes as ``> `` quoted lines, so the reply trimmer
can remove quoted history from HTML-only mail exactly as from plain text.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# http(s)/mailto/tel links, cid: for inline images; data: and javascript: can carry scripts.
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
# Removed together with their content; everything else unknown is unwrapped to its text.
CONTENT_TAGS = frozenset({"script", "style", "title", "head", "template", "noscript"})
# nh3's per-tag defaults plus text direction, which right-to-left mail needs.
ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "*": {"dir", "lang", "title"}}
LINK_REL = "noopener noreferrer"  # the opened page gets neither our window nor our address

# Tags that end a line when they open or close; P-like ones also leave a blank line.
BLOCK_TAGS = frozenset({"address", "article", "aside", "dd", "div", "dl", "dt", "figcaption",
                        "figure", "footer", "form", "header", "hr", "li", "main", "nav", "ol",
                        "section", "table", "tr", "ul", "center", "caption", "summary", "details"})
PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote"})
# Their text is not content; <head> is not here because broken mail often never closes it.
SKIPPED_TAGS = frozenset({"script", "style", "title", "template", "noscript"})
CELL_TAGS = frozenset({"td", "th"})
QUOTE_PREFIX = "> "
_SPACES = re.compile(r"\s+")


def sanitize(html: str) -> str:
    """A copy of ``html`` that is safe to show to an agent in a browser."""
    return nh3.clean(html, clean_content_tags=set(CONTENT_TAGS), attributes=ATTRIBUTES,
                     url_schemes=set(URL_SCHEMES), link_rel=LINK_REL, url_relative="deny",
                     strip_comments=True)


def to_text(html: str) -> str:
    """Readable plain text for ``html``: lines, list bullets, ``> `` quotes, entities decoded."""
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    return renderer.text()


class _TextRenderer(HTMLParser):
    """Collects (quote depth, line) pairs while walking the tag soup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.words: list[str] = []
        self.quote_depth = 0
        self.line_depth = 0
        self.skipping = 0
        self.preformatted = 0
        self.lists: list[list] = []  # [tag, next number] per open <ul>/<ol>

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._block_boundary(tag)
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag == "body":
            self.skipping = 0  # whatever was left open before the body, the body is content
        elif tag == "br":
            self._end_line(keep_empty=True)
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 1])
        elif tag == "li":
            self._start_item()
        elif tag in CELL_TAGS and self.words:
            self.words.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""  # often an emoji or a meaningful label
            self.handle_data(f" {alt} " if alt.strip() else "")
        self.quote_depth += tag == "blockquote"
        self.preformatted += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS or tag in PARAGRAPH_TAGS:
            self._end_line()
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            if self.lines and not self.lines[-1][1]:  # the quote's last blank line is outside
                self.lines[-1] = (self.quote_depth, "")
        elif tag == "pre":
            self.preformatted = max(0, self.preformatted - 1)
        if tag in PARAGRAPH_TAGS:
            self._blank_line()

    def handle_data(self, data: str) -> None:
        if self.skipping or not data:
            return
        if not self.words:
            self.line_depth = self.quote_depth
        if not self.preformatted:
            self.words.append(_SPACES.sub(" ", data))
            return
        first, *rest = data.split("\n")
        self.words.append(first)
        for line in rest:
            self._end_line(keep_empty=True)
            self.line_depth = self.quote_depth
            self.words.append(line)

    def text(self) -> str:
        self._end_line()
        rendered = [(QUOTE_PREFIX * depth + line).rstrip() for depth, line in self.lines]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(rendered)).strip("\n")

    def _block_boundary(self, tag: str) -> None:
        if tag in PARAGRAPH_TAGS:
            self._end_line()
            self._blank_line()
        elif tag in BLOCK_TAGS:
            self._end_line()

    def _start_item(self) -> None:
        self._end_line()
        kind, number = self.lists[-1] if self.lists else ("ul", 1)
        if self.lists:
            self.lists[-1][1] += 1
        self.handle_data(f"{number}. " if kind == "ol" else "- ")

    def _end_line(self, keep_empty: bool = False) -> None:
        line = "".join(self.words)
        line = line.rstrip() if self.preformatted else _SPACES.sub(" ", line).strip()
        if line or keep_empty:
            self.lines.append((self.line_depth, line))
        self.words = []
        self.line_depth = self.quote_depth

    def _blank_line(self) -> None:
        if self.lines and self.lines[-1][1]:
            self.lines.append((min(self.quote_depth, self.lines[-1][0]), ""))
