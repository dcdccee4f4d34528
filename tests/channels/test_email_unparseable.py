"""Email input that cannot become an event: Unparseable cases, odd_mime corpus, property tests."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email import Unparseable
from tests.channels.mailfactory import CORPORA, email_event, parse_email

CORPUS = CORPORA / "odd_mime"
CORPUS_SKIP = {"LICENSE", "SOURCE_COMMIT"}
CORPUS_FILES = sorted(
    p for p in CORPUS.rglob("*")
    if p.is_file() and p.name not in CORPUS_SKIP and not p.name.startswith("README")
) if CORPUS.is_dir() else []


# --- what cannot become an event ------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n  "])
def test_empty_input_is_unparseable(raw):
    with pytest.raises(Unparseable, match="empty"):
        parse_email(raw)


def test_input_without_mail_headers_is_unparseable():
    with pytest.raises(Unparseable, match="no mail headers"):
        parse_email(b'{"text": "not a mail"}\n')


def test_mail_without_sender_and_body_is_unparseable():
    with pytest.raises(Unparseable, match="no sender and no body"):
        parse_email(b"Subject: nothing\n\n")


def test_absurdly_deep_nesting_becomes_an_event_with_the_deep_part_kept_whole():
    raw = b"From: a@example.com\n" + b"Content-Type: message/rfc822\n\n" * 5000 + b"\n\nbody"
    event = email_event(raw)
    assert event.sender.address == "a@example.com"
    assert [a.content_type for a in event.attachments] == ["message/rfc822"]


def test_unparseable_is_a_value_error_with_a_reason():
    error = Unparseable("why")
    assert isinstance(error, ValueError) and error.reason == "why"


# --- corpus and properties ------------------------------------------------------------------


def _event_or_unparseable(raw: bytes) -> None:
    try:
        event = email_event(raw)
    except Unparseable as exc:
        assert exc.reason
        return
    json.dumps(event.to_dict(), ensure_ascii=False).encode("utf-8")  # storable as it is


@pytest.mark.skipif(not CORPUS_FILES, reason="odd_mime corpus not present")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_mail_parses_or_is_unparseable_with_a_reason(path):
    _event_or_unparseable(path.read_bytes())


MAIL_FRAGMENTS = st.sampled_from([
    b"From: a@example.com\r\n", b"To: b+tok@acme.test\r\n", b"Subject: =?utf-8?B?w6k?=\r\n",
    b"Content-Type: multipart/mixed; boundary=x\r\n", b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/html; charset=x-foo\r\n", b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n", b"Content-Disposition: attachment; "
    b"filename*=utf-8''%E2%82\r\n", b"--x\r\n", b"--x--\r\n", b"\r\n", b" folded\r\n",
    b"<p>hi<blockquote>q", b"=?gb2312?Q?=C4?=", b"\xff\xfe\x1b$B", b"SGVsbG8", b"Date: junk\r\n",
])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_become_an_event_or_unparseable(raw):
    _event_or_unparseable(raw)


@SETTINGS
@given(st.lists(MAIL_FRAGMENTS | st.binary(max_size=40), max_size=40))
def test_mime_fragment_soup_becomes_an_event_or_unparseable(fragments):
    _event_or_unparseable(b"".join(fragments))


@SETTINGS
@given(st.dictionaries(st.sampled_from(["From", "To", "Cc", "Subject", "Date", "Message-ID",
                                        "References", "Content-Type", "Reply-To"]),
                       st.text(max_size=80), max_size=9),
       st.text(max_size=500))
def test_arbitrary_text_mail_becomes_an_event_or_unparseable(headers, body):
    head = "".join(f"{name}: {value}\n" for name, value in headers.items())
    _event_or_unparseable(f"{head}\n{body}".encode("utf-8"))
