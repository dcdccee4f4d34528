"""Reply trimming: delimiters, fences, whitespace and line endings; no input crashes or is slow."""
from __future__ import annotations

import time

import pytest

from channels.mail.quotes import extract_reply
from tests.channels.mailfactory import REPLY


# --- layout ---------------------------------------------------------------------------------------


def test_trailing_delimiter_lines_are_removed():
    text = f"{REPLY}\n\n***\n####\n~~~~~\n======\n++++++++\n   -------\n"
    assert extract_reply(text) == REPLY


def test_delimiter_line_in_the_middle_is_kept():
    text = "Part one.\n\n---\n\nPart two."
    assert extract_reply(text) == text


def test_dashes_inside_a_sentence_are_kept():
    text = "This is not a ---------- delimiter."
    assert extract_reply(text) == text


def test_tracking_placeholder_line_is_blank():
    assert extract_reply(f"{REPLY}\n\n\u1427\n\u200b\n") == REPLY


def test_fenced_code_is_never_trimmed():
    text = ("Log:\n\n```\n# comment\n####\n> not a quote\n--\n"
            "On 1 Jan 2020 at 10:00, A <a@b.c> wrote:\n```\n\nEnd.")
    assert extract_reply(text) == text


def test_unclosed_fence_does_not_hide_the_history():
    text = "```\nlog line\n\nOn 1 Jan 2020 at 10:00, A <a@example.com> wrote:\n> Old"
    assert extract_reply(text) == "```\nlog line"


def test_windows_and_old_mac_line_endings_are_normalized():
    assert extract_reply("Line one\r\nLine two\rLine three\r\n") == "Line one\nLine two\nLine three"


def test_leading_and_trailing_blank_lines_are_stripped():
    assert extract_reply("\n\n\n   \nHello.\n\n\n") == "Hello."


def test_inner_spacing_and_indentation_are_kept():
    text = "    indented code\n\n- A\n- B\n\n\n    - Item #1"
    assert extract_reply(text) == text


def test_text_without_history_is_unchanged():
    assert extract_reply("Just a plain message.\nWith two lines.") == \
        "Just a plain message.\nWith two lines."


# --- robustness -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", " ", "\n", "\r\n\r\n", ">", "> ", ">>>>>", "-- ", "--", "```", "_____", "\u1427",
    "On", "wrote:", "From:", "\x00\x01\x02", "\ud800".encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"),
    "> On Thu, Apr 30, 2020 at 10:07 AM, A <a@example.com> wrote:\n" * 50,
    "x" * 200_000, "> " * 100_000, "From: a\n" * 1000,
])
def test_no_input_crashes(text):
    assert isinstance(extract_reply(text), str)


# One-line megabyte inputs aimed at regex backtracking (each must stay linear).
@pytest.mark.parametrize("text", [
    "x" * 1_000_000,
    ">" * 1_000_000,
    "A" * 1_000_000,
    "(" * 500_000 + ":" * 500_000,
    "<" * 500_000 + "@" * 500_000,
    "Sent from my " + "( " * 500_000,
    "On 1 Jan 2020 we " * 60_000,
    "a: " * 330_000,
    "-- " * 330_000,
], ids=["letters", "quote-markers", "capitals", "parens-colons", "angles-ats", "long-signature",
        "on-words", "colons", "dashes"])
def test_megabyte_line_finishes_fast(text):
    started = time.process_time()  # CPU: the work done, not the busy machine
    extract_reply(text)
    assert time.process_time() - started < 1.0


def test_megabyte_email_finishes_fast():
    block = ("A reasonably ordinary line of an email body, written by a customer.\n"
             "On 1 Jan 2020 at 10:00, A <a@example.com>\n"
             "> a quoted line\n"
             "From: a\nTo: b\n\n"
             "text\nOn 1 Jan 2020 at 10:00, A <a@example.com> wrote:\n> q\n")
    text = block * (1_000_000 // len(block))
    started = time.process_time()  # CPU: the work done, not the busy machine
    extract_reply(text)
    assert time.process_time() - started < 2.0
