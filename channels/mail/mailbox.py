"""One plain mailbox, read without a parser: ``a@b.c`` or ``Jane Doe <a@b.c>``.

Most address fields hold exactly that, and the stdlib's readers (``email.utils.getaddresses``,
the policy's address header) walk such a value character by character in Python, tens of
microseconds each time. ``plain_mailbox`` recognizes the plain form with string operations
and gives what those readers give for it; any other value (quotes, comments, groups, several
addresses, encoded-words, dots in the name, no space before ``<``) returns None and goes to
the parsers as before.
"""
from __future__ import annotations

ATOM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-")
NAME_CHARS = ATOM_CHARS | {" "}


def plain_mailbox(value: str) -> tuple[str, str] | None:
    """(display name, address) of a plain mailbox, whitespace collapsed; None otherwise."""
    if not value.isascii():
        return None
    text = " ".join(value.split())
    display, bracket, rest = text.partition("<")
    if bracket:
        address, closing, tail = rest.partition(">")
        if not closing or tail or not set(display) <= NAME_CHARS:
            return None
        if display and not display.endswith(" "):
            return None  # "Name<a@b>": the policy renders it with a space
        display = display.strip()
    else:
        address, display = display, ""
    local, at, domain = address.partition("@")
    if not (at and _dot_atom(local) and _dot_atom(domain)):
        return None
    return display, address


def render(pair: tuple[str, str]) -> str:
    """The mailbox as the email policy writes it: ``Jane Doe <a@b.c>`` or ``a@b.c``."""
    display, address = pair
    return f"{display} <{address}>" if display else address


def _dot_atom(text: str) -> bool:
    return all(atom and set(atom) <= ATOM_CHARS for atom in text.split("."))
