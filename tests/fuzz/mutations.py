"""Mutations of real mail: each takes the raw bytes and a seeded ``random.Random``.

They imitate what breaks mail in the wild and what an attacker sends: flipped bits, cut-off
transfers, duplicated and giant header fields, lying charset labels, damaged or missing MIME
boundaries, absurd nesting, swapped transfer encodings and line endings.
"""
from __future__ import annotations

import random
import re

HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[^\n]*\n", re.MULTILINE)
CHARSET = re.compile(rb"charset=\"?[^\";\s]*\"?", re.IGNORECASE)
BOUNDARY_PARAM = re.compile(rb"boundary=\"?([^\";\s]+)\"?", re.IGNORECASE)
TRANSFER_ENCODING = re.compile(rb"Content-Transfer-Encoding:[^\n]*", re.IGNORECASE)
HOSTILE_CHARSETS = (b"utf-7", b"\"x\x00\"", b"utf-16", b"utf-32", b"iso-2022-jp", b"gb2312",
                    b"unknown-8bit", b"\"\"", b"x-junk", b"base64", b"rot13", b"idna",
                    b"ks_c_5601-1987", b"utf-8\"; format=flowed", b"=?utf-8?q?x?=", b"undefined")
TRANSFER_ENCODINGS = (b"base64", b"quoted-printable", b"x-uuencode", b"8bit", b"binary",
                      b"b\xe4se64", b"7bit; junk", b"")


def bit_flips(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 16)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def truncate(raw: bytes, rng: random.Random) -> bytes:
    return raw[:rng.randrange(len(raw) + 1)]


def duplicate_headers(raw: bytes, rng: random.Random) -> bytes:
    lines = HEADER_LINE.findall(raw[:64 * 1024])
    if not lines:
        return raw
    line = rng.choice(lines)
    return raw.replace(line, line * rng.choice((2, 3, 50, 800)), 1)


def giant_header(raw: bytes, rng: random.Random) -> bytes:
    unit = rng.choice((b"word ", b"=?utf-8?q?caf=C3=A9?= ", b"a@b.example, ", b"\r\n x",
                       b"\xe9\xff", b"x", b"<id@host> ", b"\"q\\\" (c(o(m))) "))
    name = rng.choice((b"Subject", b"To", b"Cc", b"From", b"References", b"Content-Type",
                       b"X-Junk", b"Message-ID", b"In-Reply-To"))
    value = unit * (rng.choice((20_000, 100_000, 400_000)) // len(unit))
    return name + b": " + value + b"\r\n" + raw


def charset_swap(raw: bytes, rng: random.Random) -> bytes:
    found = CHARSET.findall(raw)
    if not found:
        return raw.replace(b"\n\n", b"\nContent-Type: text/plain; charset=%s\n\n"
                           % rng.choice(HOSTILE_CHARSETS), 1)
    return raw.replace(rng.choice(found), b"charset=" + rng.choice(HOSTILE_CHARSETS))


def damage_boundaries(raw: bytes, rng: random.Random) -> bytes:
    boundaries = BOUNDARY_PARAM.findall(raw)
    if not boundaries:
        return deep_nesting(raw, rng)
    boundary = rng.choice(boundaries)
    delimiter = b"--" + boundary
    damage = rng.randrange(6)
    if damage == 0:  # no closing delimiter
        return raw.replace(delimiter + b"--", b"")
    if damage == 1:  # the parameter no longer matches the body
        return raw.replace(b"boundary=", b"boundary=x", 1)
    if damage == 2:  # delimiter lines repeated
        return raw.replace(delimiter + b"\n", (delimiter + b"\n") * rng.choice((2, 500)))
    if damage == 3:  # delimiter lines cut short
        return raw.replace(delimiter, delimiter[:rng.randrange(2, len(delimiter) + 1)])
    if damage == 4:  # the parameter is gone
        return BOUNDARY_PARAM.sub(b"", raw, count=1)
    return raw.replace(delimiter, delimiter + b"--", 1)  # closed before the first part


def deep_nesting(raw: bytes, rng: random.Random) -> bytes:
    depth = rng.choice((5, 25, 200, 2000))
    same = rng.random() < 0.3
    if rng.random() < 0.5:
        head = b"".join(b"Content-Type: message/rfc822\r\n\r\n" for _ in range(depth))
        return b"From: a@example.com\r\n" + head + raw
    opening = b"".join(b"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n"
                       % ((0, 0) if same else (n, n)) for n in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % (0 if same else n) for n in reversed(range(depth)))
    return b"From: a@example.com\r\n" + opening + raw + closing


def transfer_encoding_swap(raw: bytes, rng: random.Random) -> bytes:
    encoding = rng.choice(TRANSFER_ENCODINGS)
    if TRANSFER_ENCODING.search(raw):
        return TRANSFER_ENCODING.sub(b"Content-Transfer-Encoding: " + encoding, raw)
    return raw.replace(b"\n\n", b"\nContent-Transfer-Encoding: " + encoding + b"\n\n", 1)


def line_endings(raw: bytes, rng: random.Random) -> bytes:
    plain = raw.replace(b"\r\n", b"\n")
    return rng.choice((plain, plain.replace(b"\n", b"\r\n"), plain.replace(b"\n", b"\r"),
                       plain.replace(b"\n\n", b"\r\n\n", 3)))


def splice(raw: bytes, rng: random.Random) -> bytes:
    if not raw:
        return raw
    start = rng.randrange(len(raw))
    piece = raw[start:start + rng.randrange(1, 4096)]
    at = rng.randrange(len(raw) + 1)
    return raw[:at] + piece * rng.choice((1, 2, 50)) + raw[at:]


MUTATIONS = {f.__name__: f for f in (bit_flips, truncate, duplicate_headers, giant_header,
                                     charset_swap, damage_boundaries, deep_nesting,
                                     transfer_encoding_swap, line_endings, splice)}


def mutate(raw: bytes, rng: random.Random, first: str) -> bytes:
    """``first`` applied to ``raw``, then sometimes one or two more mutations of any kind."""
    raw = MUTATIONS[first](raw, rng)
    for _ in range(rng.choice((0, 0, 1, 2))):
        raw = MUTATIONS[rng.choice(sorted(MUTATIONS))](raw, rng)
    return raw
