"""Plain header values read raw: exactly what the email policy's parsers and getaddresses give.

The classifier's header reads skip the policy's structured parsers for values whose parsed
text is their raw text (``safe_headers._plain_text``). These tests hold the shortcut to that
promise: on every header of the mail fixtures, on hand-picked edge cases and on generated
values, a value read raw reads as the policy reads it.
"""
from __future__ import annotations

from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.mail import mailbox, mime, safe_headers
from channels.mail.header_policy import PARSE_POLICY

FIXTURES = Path(__file__).parent / "fixtures"
FIELDS = ("from", "to", "cc", "sender", "reply-to", "message-id", "subject", "date",
          "in-reply-to", "references", "list-id", "x-mailer", "auto-submitted", "return-path",
          "delivered-to", "precedence", "content-type", "mime-version")


def _policy_text(name: str, value: str, policy=PARSE_POLICY) -> str:
    """What ``header_values`` read before the shortcut: the policy's text, or the raw value
    decoded when the policy's parser raises (the stdlib's does on some junk)."""
    try:
        return safe_headers.clean_value(str(policy.header_fetch_parse(name, value)))
    except Exception:
        return safe_headers._decode_raw(value)


def _check(name: str, value: str) -> bool:
    """True when the shortcut was taken; fails when it reads otherwise than the policy."""
    plain = safe_headers._plain_text(name.lower(), value)
    if plain is None:
        return False
    assert plain == _policy_text(name, value), (name, value)
    if not name.lower().startswith(("content-", "mime-version")):  # structured in policy.default
        assert plain == _policy_text(name, value, default_policy), (name, value)
    return True


def _fixture_headers():
    for path in sorted(FIXTURES.rglob("*.eml")):
        message = mime.parse_bytes(path.read_bytes())
        yield from ((k, v) for k, v in message.raw_items() if isinstance(v, str))


def test_every_fixture_header_reads_as_the_policy_reads_it():
    taken = sum(_check(name, value) for name, value in _fixture_headers())
    assert taken > 100  # the shortcut is used, not only declined


@pytest.mark.parametrize("name,value,taken", [
    ("From", "customer@example.net", True),
    ("From", "Jane Doe <jane@example.net>", True),
    ("From", "Jane   Doe   <jane@example.net>", True),
    ("To", "support@demo.test", True),
    ("Message-ID", "<1.2.3@example.net>", True),
    ("Subject", "Order  not delivered", True),
    ("From", "<jane@example.net>", True),           # the policy drops the brackets
    ("From", "Jane Doe<jane@example.net>", False),  # the policy adds a space
    ("From", "J. Doe <j@example.net>", False),      # the policy quotes the name
    ("From", '"Doe, Jane" <jane@example.net>', False),
    ("From", "jane@example.net (Jane)", False),
    ("To", "a@example.net, b@example.net", False),
    ("To", "a@example.net,b@example.net", False),
    ("To", "undisclosed-recipients:;", False),
    ("From", "jane..doe@example.net", False),
    ("From", ".jane@example.net", False),
    ("From", "MAILER-DAEMON@mx.example.net (Mail Delivery System)", False),
    ("Date", "Mon, 7 Dec 2026 18:40:11 +0000", False),  # reformatted by the policy
    ("Subject", "=?utf-8?q?R=C3=BCckerstattung?=", False),
    ("Subject", "caf\udce9", False),                  # raw 8-bit byte
    ("Subject", "a\x00b", False),
])
def test_edge_cases(name, value, taken):
    assert _check(name, value) is taken


ADDRESS_TEXT = st.text(alphabet="aZ09._+-@<> ,;:\"()\\[]", max_size=40)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(FIELDS), value=ADDRESS_TEXT)
def test_generated_values_read_as_the_policy_reads_them(name, value):
    _check(name, value)


def test_header_values_keeps_order_and_falls_back_per_message():
    message = mime.parse_bytes(b"To: a@example.net\r\nTo: B C <b@example.net>\r\n"
                               b"To: =?utf-8?q?J=C3=B6rg?= <j@example.net>\r\n\r\nbody\r\n")
    assert safe_headers.header_values(message, "To") == [
        "a@example.net", "B C <b@example.net>", "Jörg <j@example.net>"]
    message = mime.parse_bytes(b"To: a@example.net\r\nTo: B C <b@example.net>\r\n\r\nbody\r\n")
    assert safe_headers.header_values(message, "to") == ["a@example.net", "B C <b@example.net>"]


@settings(max_examples=400, deadline=None)
@given(value=ADDRESS_TEXT)
def test_a_plain_mailbox_reads_as_getaddresses_reads_it(value):
    pair = mailbox.plain_mailbox(value)
    if pair is not None:
        assert [pair] == getaddresses([value])


@pytest.mark.parametrize("value", ["a@example.net", "Jane Doe <jane@example.net>",
                                   " Jane  Doe\t<jane@example.net> ", "<jane@example.net>",
                                   "A-1_b+c <x.y@sub.example.net>"])
def test_plain_mailboxes(value):
    assert [mailbox.plain_mailbox(value)] == getaddresses([value])


def test_address_pairs_reads_plain_and_other_fields_alike():
    plain = mime.parse_bytes(b"From: Jane Doe <jane@example.net>\r\nCc: b@example.net\r\n\r\nx")
    assert mime.address_pairs(plain, "from", "cc") == [("Jane Doe", "jane@example.net"),
                                                       ("", "b@example.net")]
    mixed = mime.parse_bytes(b"From: Jane Doe <jane@example.net>\r\n"
                             b"Cc: =?utf-8?q?J=C3=B6rg?= <j@example.net>, b@example.net\r\n\r\nx")
    assert mime.address_pairs(mixed, "from", "cc") == [
        ("Jane Doe", "jane@example.net"), ("Jörg", "j@example.net"), ("", "b@example.net")]
