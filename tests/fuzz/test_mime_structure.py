"""Generated MIME structures and component soups: never an exception, never over budget.

Mail: any tree of multiparts, attached messages and leaves (``strategies.mails``) becomes an
event or ``Unparseable`` (``oracle.check_mail``). Components: the HTML renderer and sanitizer
and the reply trimmer take any text without raising, in bounded CPU time.
"""
from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from channels.mail.html import sanitize, to_text
from channels.mail.quotes import extract_reply
from tests.fuzz.budget import INPUT_CPU_SECONDS, SETTINGS, seeded
from tests.fuzz.oracle import check_mail
from tests.fuzz.strategies import mails

HTML_SOUP = st.lists(st.sampled_from(
    ["<", ">", "</", "<!--", "-->", "<![", "]]>", "<?", "<p>", "</p>", "<b title=", "'", '"',
     "=", "&", "&amp;", "&#", "x", " ", "\n", "<script>", "</script", "<li>", "<table>", "<td>",
     "<blockquote>", "</blockquote>", "<pre>", "<br/>", "<img alt=", "\ue000", "0\ue001", "a"]),
    max_size=80).map("".join)
REPLY_SOUP = st.lists(st.sampled_from(
    ["> ", ">", "On Mon, 1 Jan 2024 10:00, Ann <a@b.c> wrote:", "-- ", "From: a", "To: b",
     "Subject: c", "Sent from my iPhone", "-----Original Message-----", "```", "_____", "\n",
     "text", " ", "12:30", "2016-10-24 15:36 GMT+02:00", "<a@b>:", "wrote", "\u200b"]),
    max_size=60).map("".join)


@SETTINGS
@seeded
@given(mails())
def test_generated_mime_structure_becomes_an_event_or_unparseable(raw):
    check_mail(raw, "structure")


@SETTINGS
@seeded
@given(HTML_SOUP)
def test_html_soup_renders_and_sanitizes_without_error(html):
    started = time.process_time()
    text, clean = to_text(html), sanitize(html)
    assert isinstance(text, str) and "<script" not in clean and "\ue000" not in clean
    assert time.process_time() - started < INPUT_CPU_SECONDS


@SETTINGS
@seeded
@given(REPLY_SOUP)
def test_reply_soup_is_trimmed_without_error(text):
    started = time.process_time()
    assert isinstance(extract_reply(text), str)
    assert time.process_time() - started < INPUT_CPU_SECONDS
