"""HTML mail bodies: a sanitized copy for display and a readable plain-text rendering.

``sanitize`` keeps a conservative allowlist (nh3): no scripts, styles, forms or event handlers;
links get ``rel="noopener noreferrer"``; images may point at ``cid:`` inline parts.
``to_text`` renders blocks as lines and blockquotes as ``> `` quoted lines, so the reply trimmer
can remove quoted history from HTML-only mail exactly as from plain text.

Both read the bounded, well-nested token stream of ``html_tree`` (linear time, see
``html_tokens`` for why neither Python's HTMLParser nor nh3 may see raw mail HTML). nh3 gets a
skeleton: the tags, with each text replaced by a placeholder that is put back, escaped, into
its output -- its cost then grows with the tags only (text with many ``&`` was quadratic).
"""
from __future__ import annotations

import re
from html import escape

import nh3

from channels.mail.html_tokens import Tag
from channels.mail.html_tree import tokens

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
MAX_QUOTE_DEPTH = 20  # quote levels rendered; deeper quotes get no more "> " (text stays)
_SPACES = re.compile(r"\s+")
# Placeholder of the N-th text in the skeleton given to nh3: private-use characters, which
# are removed from customer text and attribute values first so none can pose as one.
_PLACEHOLDER = re.compile("\ue000([0-9]+)\ue001")
_PRIVATE_MARKS = re.compile("[\ue000\ue001]")
_NAME = re.compile(r"[a-z][a-z0-9-]{0,40}")  # tag and attribute names worth giving nh3
_ATTRIBUTE_NAME = re.compile(r"[a-z_:][a-z0-9_:.-]{0,60}")


def sanitize(html: str) -> str:
    """A copy of ``html`` that is safe to show to an agent in a browser."""
    texts: list[str] = []
    skeleton = "".join(_skeleton(token, texts) for token in tokens(html))
    cleaned = nh3.clean(skeleton, clean_content_tags=set(CONTENT_TAGS), attributes=ATTRIBUTES,
                        url_schemes=set(URL_SCHEMES), link_rel=LINK_REL, url_relative="deny",
                        strip_comments=True)
    return _PLACEHOLDER.sub(lambda m: escape(texts[int(m.group(1))], quote=False), cleaned)


def _skeleton(token: Tag | str, texts: list[str]) -> str:
    """The token as nh3 input: tags rebuilt from their parsed attributes, text as placeholders
    (whitespace stays, it may not be moved out of tables)."""
    if isinstance(token, str):
        token = _PRIVATE_MARKS.sub("", token)
        if not token.strip():
            return token
        texts.append(token)
        return f"\ue000{len(texts) - 1}\ue001"
    if not _NAME.fullmatch(token.name):
        return ""
    if token.end:
        return f"</{token.name}>"
    attributes = "".join(f' {name}="{escape(_PRIVATE_MARKS.sub("", value))}"'
                         for name, value in token.attributes()
                         if _ATTRIBUTE_NAME.fullmatch(name))
    return f"<{token.name}{attributes}>"


def to_text(html: str) -> str:
    """Readable plain text for ``html``: lines, list bullets, ``> `` quotes, entities decoded."""
    renderer = _TextRenderer()
    for token in tokens(html):
        if isinstance(token, str):
            renderer.handle_data(token)
        elif token.end:
            renderer.handle_endtag(token.name)
        else:
            renderer.handle_starttag(token.name, token)
    return renderer.text()


class _TextRenderer:
    """Collects (quote depth, line) pairs while walking the tag stream."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self.words: list[str] = []
        self.quote_depth = 0
        self.line_depth = 0
        self.skipping = 0
        self.preformatted = 0
        self.lists: list[list] = []  # [tag, next number] per open <ul>/<ol>

    def handle_starttag(self, tag: str, token: Tag) -> None:
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
            alt = token.attribute("alt")  # often an emoji or a meaningful label
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
        rendered = [(QUOTE_PREFIX * min(depth, MAX_QUOTE_DEPTH) + line).rstrip()
                    for depth, line in self.lines]
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
