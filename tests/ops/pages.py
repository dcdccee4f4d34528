"""Reading the ops dashboard's HTML in tests: its tables (caption and rows of cell texts) and
its forms (action and fields), with the standard library's HTML parser."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Table:
    caption: str = ""
    labelled_by: str = ""
    rows: list[list[str]] = field(default_factory=list)  # header row included


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    button: str = ""


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: list[Table] = []
        self.forms: list[Form] = []
        self._open: list[Table] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._button: list[str] | None = None
        self.headings: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._open.append(Table(labelled_by=attrs.get("aria-labelledby", "")))
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self._open:
            self._open[-1].rows.append([])
        elif tag in ("td", "th") and self._open:
            self._cell = []
        elif tag == "form":
            self.forms.append(Form(attrs.get("action", "")))
        elif tag == "input" and self.forms and attrs.get("type") == "hidden":
            self.forms[-1].fields[attrs.get("name", "")] = attrs.get("value", "")
        elif tag == "button":
            self._button = []
        elif tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag == "table" and self._open:
            self.tables.append(self._open.pop())
        elif tag == "caption" and self._caption is not None:
            self._open[-1].caption = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._open[-1].rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "button" and self._button is not None:
            if self.forms:
                self.forms[-1].button = " ".join("".join(self._button).split())
            self._button = None
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data):
        for sink in (self._cell, self._caption, self._button, self._heading):
            if sink is not None:
                sink.append(data)


def parse(html: str) -> _Parser:
    parser = _Parser()
    parser.feed(html)
    return parser


def table(html: str, caption_start: str) -> list[list[str]]:
    """The body rows of the table whose caption starts with ``caption_start``."""
    [found] = [t for t in parse(html).tables if t.caption.startswith(caption_start)]
    return found.rows[1:]


def headings(html: str) -> list[str]:
    """The texts of the page's h1, h2 and h3 headings, in order."""
    return parse(html).headings


def form(html: str, button_start: str) -> Form:
    """The one form whose button's text starts with ``button_start``."""
    [found] = [f for f in parse(html).forms if f.button.startswith(button_start)]
    return found
