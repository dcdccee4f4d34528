"""The adapter's fast paths give exactly what the general paths they skip give.

- ``linear_regex.FastRegexp``: a search or match of a whole ASCII ``str`` goes straight to RE2's
  matcher; the binding's general path (offset mapping) must find the same spans and groups.
- ``header_index.raw_values``: one index of a message's fields, rebuilt when the fields change.
- ``mime_tree._plain_section``: a plain header section built without the stdlib's feed parser
  must be the message ``BytesHeaderParser`` makes (fields, defects, payload, policy); any
  unusual section is left to that parser.
"""
from __future__ import annotations

import random
from email.message import EmailMessage
from email.parser import BytesHeaderParser

import pytest
import re2

from channels.mail import (bounce_text, classify_patterns, header_index, linear_regex,
                           mime_tree, ndr_patterns)
from channels.mail.header_policy import PARSE_POLICY
from tests.fuzz.corpus import corpus_mails

PATTERN_MODULES = (classify_patterns, ndr_patterns, bounce_text)
PATTERNS = [value for module in PATTERN_MODULES for value in vars(module).values()
            if isinstance(value, linear_regex.FastRegexp)]
TEXTS = ["", " ", "Out of Office: back Monday", "Re: Undeliverable: invoice 12",
         "MAILER-DAEMON@mx.example.com", "Mail delivery failed: returning message to sender",
         "noreply@example.com", "yes, score=9", "Automatic reply: [Fuori sede]",
         "Probl\u00e8me de facturation", "\u81ea\u52a8\u56de\u590d: hello", "a\nb\r\nc",
         '"notificationType":"Bounce","emailAddress":"a@b.example","status":"5.1.1"',
         "Delivery Status Notification (Failure)", "x" * 5000 + " vacation"]


def _spans(match):
    return None if match is None else (match.span(), match.groups(), match.group(0))


def test_patterns_are_fast_and_the_check_has_patterns():
    assert len(PATTERNS) > 10


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.pattern[:40])
def test_fast_search_and_match_find_what_the_binding_finds(pattern):
    rng = random.Random(5)
    texts = TEXTS + ["".join(rng.choice("ab :.@<>-\n\u00e9") for _ in range(rng.randrange(60)))
                     for _ in range(200)]
    for text in texts:
        assert _spans(pattern.search(text)) == _spans(re2._Regexp.search(pattern, text))
        assert _spans(pattern.match(text)) == _spans(re2._Regexp.match(pattern, text))
        # pos/endpos and bytes take the binding's own path
        assert _spans(pattern.search(text, 1)) == _spans(re2._Regexp.search(pattern, text, 1))
        data = text.encode("utf-8", "surrogatepass")
        assert _spans(pattern.search(data)) == _spans(re2._Regexp.search(pattern, data))


def test_linear_gives_fast_patterns_that_keep_the_binding_api():
    pattern = linear_regex.linear(r"(a)|(b)(c)?", ignore_case=False)
    assert isinstance(pattern, re2._Regexp)
    match = pattern.search("xxbyy")
    assert (match.span(), match.groups(), match.start(2)) == ((2, 3), (None, "b", None), 2)
    assert pattern.findall("abcab") == [("a", "", ""), ("", "b", "c"), ("a", "", ""),
                                        ("", "b", "")]
    assert pattern.sub("-", "abc") == "--"


def test_header_index_follows_added_and_deleted_fields():
    message = EmailMessage()
    message["Comments"] = "one"
    assert header_index.raw_values(message, "COMMENTS") == ["one"]
    message["comments"] = "two"
    assert header_index.raw_values(message, "Comments") == ["one", "two"]
    del message["Comments"]
    assert header_index.raw_values(message, "comments") == []
    message["To"] = "a@b.example"
    assert header_index.raw_values(message, "to") == ["a@b.example"]
    assert header_index.raw_values(message, "cc") == []


def _same_message(fast, slow) -> bool:
    return (type(fast) is type(slow) and fast.policy is slow.policy
            and fast._headers == slow._headers and fast.defects == slow.defects
            and fast._unixfrom == slow._unixfrom and fast._payload == slow._payload
            and fast.get_default_type() == slow.get_default_type()
            and (fast.preamble, fast.epilogue) == (slow.preamble, slow.epilogue)
            and vars(fast).keys() == vars(slow).keys())


def _header_sections(raw: bytes):
    """Every header section ``mime_tree`` could meet in ``raw``: one at each line start."""
    starts = [0] + [i + 1 for i in range(len(raw[:100_000])) if raw[i:i + 1] in b"\r\n"]
    for start in starts:
        found = mime_tree.HEADER_LINES.match(raw, start)
        if found and found.end() > start:
            yield raw[start:found.end()]


SECTIONS = [b"Subject: x", b"Subject: x\r\n", b"Subject: x\n folded\r\n\tmore\r\nTo: a@b\n",
            b"X-Empty:\r\n", b"Subject:\xe9\xff 8-bit\r\n", b"A:\r\n \r\n"]
SPECIAL = [b" leading continuation\r\nSubject: x\r\n", b"From someone Mon Jan 1\r\nTo: a\r\n",
           b"To: a\r\nFrom x\r\n", b": no name\r\n", b"Subject: bare\rCR\r\n", b""]


@pytest.mark.parametrize("head", SECTIONS)
def test_plain_sections_are_built_as_the_stdlib_builds_them(head):
    fast = mime_tree._plain_section(head, PARSE_POLICY)
    assert fast is not None
    assert _same_message(fast, BytesHeaderParser(policy=PARSE_POLICY).parsebytes(head))


@pytest.mark.parametrize("head", SPECIAL)
def test_unusual_sections_are_left_to_the_stdlib(head):
    assert mime_tree._plain_section(head, PARSE_POLICY) is None


def test_every_section_of_the_corpora_reads_as_the_stdlib_reads_it():
    mails = corpus_mails()
    if not mails:
        pytest.skip("../shared/corpora is absent")
    checked = 0
    for raw in mails:
        for head in _header_sections(raw):
            fast = mime_tree._plain_section(head, PARSE_POLICY)
            if fast is not None:
                checked += 1
                assert _same_message(fast, BytesHeaderParser(policy=PARSE_POLICY).parsebytes(head))
    assert checked > 1000
