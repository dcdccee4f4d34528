"""The fast path for plain SMTP paths (gateway/edges/smtp/address.py) agrees with aiosmtpd.

Every path the fast path takes must get exactly aiosmtpd's answer (address and rest); paths it
declines go to aiosmtpd's parser. Hostile paths are generated from a fixed seed (the same every
run) over an alphabet of the characters that change the parse.
"""
from __future__ import annotations

import random

import pytest
from aiosmtpd.smtp import SMTP

from gateway.edges.smtp.address import simple_path
from gateway.edges.smtp.session import LimitedSMTP

PIECES = ["a", "b", "Z", "0", ".", "..", "@", "<", ">", " ", "  ", "\t", "(c)", '"', "\\",
          ",", ":", "[", "]", "é", "SIZE=1", "BODY=8BITMIME", "-", "+", "=", "\r\n", "'", "x@y"]
NEAR = ["a", "b", "0", ".", "-", "+", "'", "=", "_", "é", " ", "{", "/"]  # mostly dot-atoms
TAILS = ["", " SIZE=1", "  SIZE=1", " ", "x", ">", "\t", " (c)", " 1", "\r\n", " é"]


class Parser:
    """Enough of a session for aiosmtpd's ``SMTP._getaddr``."""
    local_part_limit = 0
    _getaddr = LimitedSMTP._getaddr


def aiosmtpd(arg: str, limit: int = 0):
    parser = Parser()
    parser.local_part_limit = limit
    return SMTP._getaddr(parser, arg)


def ours(arg: str, limit: int = 0):
    parser = Parser()
    parser.local_part_limit = limit
    return parser._getaddr(arg)


def outcome(parse, arg: str):
    """The answer, or the exception: aiosmtpd's parser raises on some paths (AttributeError),
    which the session then reports as a 500; the fast path must not change that either."""
    try:
        return parse(arg)
    except Exception as exc:  # noqa: BLE001 - compared, not swallowed
        return type(exc).__name__


def hostile_paths(count: int) -> list[str]:
    rng = random.Random(20261207)
    paths = []
    for _ in range(count):
        local = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))
        domain = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))
        tail = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 3)))
        paths.append(f"<{local}@{domain}>{tail}")
        paths.append(f"{rng.choice(['', ' ', '<'])}{local}{rng.choice(['@', ''])}{domain}{tail}")
        local = "".join(rng.choice(NEAR) for _ in range(rng.randint(1, 4)))
        domain = "".join(rng.choice(NEAR) for _ in range(rng.randint(1, 4)))
        paths.append(f"<{local}@{domain}>{rng.choice(TAILS)}")
    return paths


@pytest.mark.parametrize("arg, taken", [
    ("<alice@customer.test>", ("alice@customer.test", "")),
    ("<a.b+tag@x-y.example> SIZE=1024 BODY=8BITMIME",
     ("a.b+tag@x-y.example", "SIZE=1024 BODY=8BITMIME")),
    ("<a@b>  SIZE=1", None), ("<a@b> (c) SIZE=1", None), ("<a@b> ", None),
    ('<"a b"@c>', None), ("<a..b@c>", None), ("<a@[127.0.0.1]>", None), ("<@x,@y:a@b>", None),
    ("<é@b>", None), ("<>", None), ("a@b", None), (" <a@b>", None), ("<a@b >", None),
])
def test_the_fast_path_takes_only_plain_paths(arg, taken):
    assert simple_path(arg) == taken
    assert ours(arg) == aiosmtpd(arg)


def test_the_fast_path_agrees_with_aiosmtpd_on_hostile_paths():
    paths = hostile_paths(5000)
    taken = [arg for arg in paths if simple_path(arg) is not None]
    assert len(taken) > 100  # the generator reaches the fast path, not only the fallback
    for arg in paths:
        assert outcome(ours, arg) == outcome(aiosmtpd, arg), arg


def test_the_local_part_limit_holds_on_the_fast_path():
    arg = "<" + "a" * 65 + "@b.test>"
    assert simple_path(arg) is not None
    assert ours(arg, limit=64) == aiosmtpd(arg, limit=64) == (None, None)
    assert ours(arg, limit=0) == ("a" * 65 + "@b.test", "")
