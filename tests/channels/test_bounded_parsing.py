"""The reproductions of issue 10 (bounded work per message) stay fast and bounded.

Times are CPU seconds of this process (the work done, not the busy machine); each case took
between 9 and 40 s before, so the limits here fail loudly on any regression.
"""
from __future__ import annotations

import time
import tracemalloc

from channels.mail import mime, mime_tree
from tests.channels.mailfactory import email_event

HEAD = b"From: Ann <ann@example.com>\r\nTo: support@demo.test\r\nSubject: hi\r\n"


def _timed(raw: bytes):
    started = time.process_time()
    event = email_event(raw)
    return event, time.process_time() - started


def test_attached_message_with_a_header_of_40000_words_is_clamped_and_kept():
    inner = b"From: a@b.test\r\nSubject: " + b"word " * 40_000 + b"\r\n\r\nbody\r\n"
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nsee attached\r\n" \
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--b--\r\n"
    event, spent = _timed(raw)
    assert spent < 1.0
    assert event.text == "see attached" and event.attachments[0].content_type == "message/rfc822"


def test_attached_message_is_kept_exactly_as_it_arrived():
    inner = b"From: a@b.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n  folded\r\n\r\nbody\r\n"
    raw = HEAD + b"Content-Type: message/rfc822\r\n\r\n" + inner
    message = mime.parse_bytes(raw)
    assert mime.extract(message).attachments[0].data == inner


def test_half_a_million_mime_parts_are_read_up_to_the_cap_in_bounded_memory():
    parts = b"--b\r\n\r\nx\r\n" * 500_000
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + parts
    tracemalloc.start()
    try:
        event, spent = _timed(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert spent < 2.0 and peak < 64 * 2**20
    assert event.text.count("x") <= mime_tree.MAX_PARTS


def test_message_cut_by_the_part_cap_says_so():
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\n\r\nx\r\n" * 600
    assert mime.extract(mime.parse_bytes(raw)).truncated


def test_html_only_body_of_100000_unfinished_tags_is_fast():
    event, spent = _timed(HEAD + b"Content-Type: text/html\r\n\r\n<p>hi</p>" + b"<a" * 100_000)
    assert spent < 1.0 and event.text == "hi"


def test_html_that_reopens_formatting_elements_does_not_blow_up():
    html = b"".join(b"<p><b title=%d>x</p>" % n for n in range(4000))
    event, spent = _timed(HEAD + b"Content-Type: text/html\r\n\r\n" + html)
    assert spent < 1.0 and len(event.html) < 20 * len(html)  # nh3 alone made 156 MB of it


def test_megabytes_of_short_lines_are_cut_to_the_text_limit():
    from channels.email import MAX_TEXT_CHARS
    event, spent = _timed(HEAD + b"\r\n" + b"x\r\n" * 4_000_000)
    assert spent < 2.0 and len(event.text) <= MAX_TEXT_CHARS


def test_header_of_nested_comments_is_read_as_text():
    raw = HEAD + b"Content-Type: text/plain; " + b"(" * 3000 + b"\r\n\r\nhello\r\n"
    assert _timed(raw)[0].text == "hello"
