"""Header values for recognizing mail: decoded, whitespace collapsed, and never raising.

The delivery-report readers and the classifier match these values against patterns, so they
want one tidy line: encoded-words decoded by the email policy, folding and runs of whitespace
collapsed to single spaces. ``mime.header_text`` / ``mime.header_values`` serve the ticket
instead (raw values, encoded-words kept or decoded by our own tolerant decoder, spacing kept),
which is why these are separate functions and not a second copy of them.

Most values need no parsing at all: the email policy's structured parsers (tens of
microseconds per address field, a third of the classification's time) give back the raw text
itself for ASCII without encoded-words, and for an address field that is one plain mailbox
(``a@b.c``, ``Jane Doe <a@b.c>``). Such values are read raw (``_plain_text``); every other
value goes through the policy, as before.
"""
from __future__ import annotations

from email.header import decode_header, make_header
from email.headerregistry import AddressHeader, DateHeader
from email.policy import default as default_policy
from email.utils import getaddresses

from channels.mail.header_index import raw_values
from channels.mail.linear_regex import linear
from channels.mail.mailbox import plain_mailbox, render

# Bounded by the RFC 5321 length limits so a long junk line cannot make the search quadratic.
ADDRESS = r"[^\s<>()\[\]\"',;:@]{1,64}@[A-Za-z0-9][A-Za-z0-9.-]{0,252}\.[A-Za-z]{2,63}\b"
# RE2 (its \b is ASCII: the pattern's TLD is ASCII too)
ADDRESS_RE = linear(ADDRESS, ignore_case=False)


def header_text(message, name: str) -> str:
    """The first ``name`` header, decoded to text ('' when absent or unreadable)."""
    values = header_values(message, name)
    return values[0] if values else ""


def header_values(message, name: str) -> list[str]:
    """Every ``name`` header, decoded to text; broken values fall back to their raw form."""
    wanted = name.lower()
    try:
        raw = raw_values(message, wanted)
    except Exception:
        return []
    if all(isinstance(v, str) for v in raw):
        plain = [_plain_text(wanted, v) for v in raw]
        if None not in plain:
            return plain
    try:
        return [clean_value(str(v)) for v in (message.get_all(name) or [])]
    except Exception:  # the policy's header parser can raise on malformed values
        pass
    try:
        return [_decode_raw(v) for v in raw]
    except Exception:
        return []


# Fields whose parsed text is not their raw text: addresses are re-rendered, dates reformatted.
_REGISTRY = default_policy.header_factory
_ADDRESS_FIELDS = frozenset(n for n, c in _REGISTRY.registry.items()
                            if issubclass(c, AddressHeader))
_REWRITTEN_FIELDS = frozenset(n for n, c in _REGISTRY.registry.items()
                              if issubclass(c, (AddressHeader, DateHeader)))


def _plain_text(name: str, value: str) -> str | None:
    """``value`` as the policy would give it, when that is its raw text; None when it takes
    the policy's parser (encoded-words, 8-bit bytes, control characters, dates, any address
    field other than one plain mailbox)."""
    if not value.isascii() or "=?" in value:
        return None
    text = " ".join(value.split())
    if not text.isprintable():
        return None
    if name not in _REWRITTEN_FIELDS:
        return text
    if name not in _ADDRESS_FIELDS:
        return None
    pair = plain_mailbox(text)
    return render(pair) if pair else None


def header_names(message) -> list[str]:
    """The names of all headers, lower-cased."""
    try:
        return [k.lower() for k, _ in message.raw_items()]
    except Exception:
        return []


def addresses(value: str) -> list[str]:
    """The addresses in a header value, lower-cased; a regex scan when parsing fails."""
    plain = plain_mailbox(value)
    if plain is not None:
        return [plain[1].lower()]
    try:
        found = [a for _, a in getaddresses([value]) if "@" in a]
    except Exception:
        found = []
    return [a.lower() for a in (found or ADDRESS_RE.findall(value))]


def clean_value(value: str) -> str:
    """Unfold and make a value safe to print (8-bit bytes arrive as surrogate escapes)."""
    try:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:  # a lone surrogate that is not an escaped byte
        value = value.encode("utf-8", "replace").decode("utf-8")
    return " ".join(value.split())


def _decode_raw(value) -> str:
    """A raw header value (maybe RFC 2047 encoded, maybe undecodable 8-bit) as text."""
    try:
        return clean_value(str(make_header(decode_header(str(value)))))
    except Exception:
        return clean_value(str(value))
