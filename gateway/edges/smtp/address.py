"""The common MAIL FROM / RCPT TO path without aiosmtpd's general address parser.

aiosmtpd parses every ``<path>`` with the e-mail package's RFC 5322 header parser (and builds
a ``typing.Protocol`` class on each call): about a fifth of the edge's CPU per message. Nearly
every path is a plain ``<dot-atom@dot-atom>`` in ASCII, for which that parser returns the text
between the brackets as the address and what follows ``>`` (and one space) as the rest. ``simple_path``
recognises exactly that form and nothing else; anything else (quotes, comments, spaces inside
the brackets, source routes, domain literals, non-ASCII, no brackets, ``<>``) returns ``None``
and goes to aiosmtpd's parser as before. tests/gateway/test_smtp_address.py checks the two
agree on hostile paths.
"""
from __future__ import annotations

import re

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
# The parser also drops the folding white space and comments after ``>``: only "nothing" or one
# space before an ESMTP parameter (a letter or digit) is taken here.
_SIMPLE = re.compile(rf"<({_DOT_ATOM}@{_DOT_ATOM})>(?: (?=[A-Za-z0-9])|\Z)")


def simple_path(arg: str) -> tuple[str, str] | None:
    """``(address, rest)`` of a plain ``<local@domain>`` path, or ``None`` for any other."""
    match = _SIMPLE.match(arg)
    if match is None:
        return None
    return match.group(1), arg[match.end():]
