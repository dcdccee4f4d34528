"""Hypothesis strategies for MIME structure: trees of multiparts, attached messages and leaves
with the header values, charsets, transfer encodings, bodies and damage real mail shows."""
from __future__ import annotations

from hypothesis import strategies as st

CHARSETS = st.sampled_from(["utf-8", "us-ascii", "iso-8859-1", "utf-7", '"x\x00"', "utf-16",
                            "iso-2022-jp", "gb2312", "unknown-8bit", '""', "x-junk", "koi8-r",
                            "windows-1252", "base64", "utf-8; format=flowed", "shift_jis"])
ENCODINGS = st.sampled_from(["", "7bit", "8bit", "binary", "base64", "quoted-printable",
                             "x-uuencode", "b\xe4se64", "junk"])
LEAF_TYPES = st.sampled_from(["text/plain", "text/html", "application/pdf", "image/png",
                              "message/delivery-status", "text/rfc822-headers",
                              "message/rfc822", "text/calendar", "application/octet-stream",
                              "multipart/mixed", "junk", "text/plain (comment)", ""])
MULTIPART_TYPES = st.sampled_from(["mixed", "alternative", "related", "digest", "report",
                                   "signed", "x-junk"])
HTML = st.sampled_from([b"<p>hi</p>", b"<![ ", b"<a", b"<blockquote>q", b"&amp;&", b"<!--",
                        b"<script>x", b"<p><b title=1>x</p>", b"<img alt='\xe9'>", b"</br>",
                        b"<table><tr><td>a<td>b", b"<li>x<li>y", b"<div>" * 50])
TEXT = st.sampled_from([b"Hello,\r\n", b"> quoted\r\n", b"On Mon, A <a@b.c> wrote:\r\n",
                        b"-- \r\n", b"Sent from my iPhone\r\n", b"=C3=A9=\r\n", b"=\r\n",
                        b"SGVsbG8=\r\n", b"\xe9\xff\x1b$B\r\n", b"+2Qk- \xe9", b"[tg:tok]",
                        b"From: a\r\nTo: b\r\nSubject: c\r\n", b"--b\r\n", b"\r\n", b" " * 40])
BODY = st.lists(TEXT | HTML | st.binary(max_size=60), max_size=12).map(b"".join)
HEADER_NAMES = st.sampled_from(["From", "To", "Cc", "Subject", "Date", "Message-ID",
                                "In-Reply-To", "References", "Reply-To", "Return-Path",
                                "Auto-Submitted", "Content-Disposition", "Content-ID",
                                "X-Junk", "Sender", "Delivered-To", "List-Id"])
HEADER_VALUES = st.sampled_from([
    "Ann <ann@example.com>", "support+tok@demo.test", "=?utf-8?B?w6k?=", "=?gb2312?Q?=C4?=",
    "<id@host>", "junk", "", "attachment; filename*=utf-8''%E2%82", "auto-replied",
    "\"q\\\" (c(o(m)))", "(((((((((", "a@b, <c@d>, e", "Mon, 1 Jan 2024 10:00:00 +0000",
    "inline; filename=\"a.pdf\"", "x" * 300]) | st.text(max_size=40)


@st.composite
def leaf(draw) -> bytes:
    kind = draw(LEAF_TYPES)
    head = f"Content-Type: {kind}; charset={draw(CHARSETS)}\r\n" if kind else ""
    encoding = draw(ENCODINGS)
    head += f"Content-Transfer-Encoding: {encoding}\r\n" if encoding else ""
    head += "".join(f"{n}: {v}\r\n" for n, v in draw(st.lists(
        st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=3)))
    return _encode(head) + b"\r\n" + draw(BODY)


def multipart(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.builds(_multipart, MULTIPART_TYPES, st.sampled_from(["b", "b0", "=_x", "b b", ""]),
                     st.lists(children, max_size=5), st.booleans(), BODY)


def attached_message(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return children.map(lambda inner: b"Content-Type: message/rfc822\r\n\r\n" + inner)


def _multipart(subtype: str, boundary: str, parts: list[bytes], closed: bool,
               preamble: bytes) -> bytes:
    head = f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n"
    delimiter = b"\r\n--" + _encode(boundary) + b"\r\n"
    body = preamble + b"".join(delimiter + part for part in parts)
    return _encode(head) + body + (b"\r\n--" + _encode(boundary) + b"--\r\n" if closed else b"")


ENTITY = st.recursive(leaf(), lambda children: st.one_of(multipart(children),
                                                         attached_message(children)),
                      max_leaves=12)


@st.composite
def mails(draw) -> bytes:
    """A whole mail: top-level headers (often a sender), then a MIME entity."""
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8))
    if draw(st.booleans()):
        headers.insert(0, ("From", "Ann <ann@example.com>"))
    raw = _encode("".join(f"{n}: {v}\r\n" for n, v in headers)) + draw(ENTITY)
    ending = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    return raw.replace(b"\r\n", ending) if ending != b"\r\n" else raw


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")
