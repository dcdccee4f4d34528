"""Every input that once crashed or stalled the mail adapters parses now (one fixture file each).

``fixtures/crashers/`` holds the reproductions of issue 10 and whatever the fuzzer
(``tests/fuzz``) finds: ``*.eml`` is raw mail for ``channels.email``, ``*.json`` a Postmark
inbound post for ``channels.inbound_parse``. Each must become an event or ``Unparseable``, never
another exception, within a second of CPU.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from channels import email, inbound_parse
from channels.common import Unparseable

CRASHERS = Path(__file__).parent / "fixtures" / "crashers"
CPU_BUDGET_SECONDS = 1.0
OPTIONS = {"workspace": "demo", "account": "support@demo.test",
           "received_at": "2026-01-01T00:00:00+00:00", "own_domains": ("demo.test",)}


def parse_fixture(path: Path):
    raw = path.read_bytes()
    if path.suffix == ".json":
        return inbound_parse.parse(raw, format_="postmark", content_type="application/json",
                                   **OPTIONS)
    return email.parse(raw, **OPTIONS)


def _cases():
    for path in sorted(CRASHERS.iterdir()):
        yield pytest.param(path, id=path.name)


@pytest.mark.parametrize("path", list(_cases()))
def test_crasher_becomes_an_event_or_unparseable_quickly(path):
    started = time.process_time()
    try:
        event = parse_fixture(path).event
    except Unparseable as exc:
        assert exc.reason
    else:
        json.dumps(event.to_dict(), ensure_ascii=False).encode("utf-8")
    assert time.process_time() - started < CPU_BUDGET_SECONDS


def test_text_part_with_a_nul_in_its_charset_keeps_its_text():
    event = parse_fixture(CRASHERS / "charset-with-nul-and-8bit-text.eml").event
    assert event.text == "Café ordered twice."


def test_utf7_part_with_a_lone_surrogate_keeps_its_bytes_as_text():
    event = parse_fixture(CRASHERS / "utf7-lone-surrogate-and-8bit-byte.eml").event
    assert event.text and "\ud909" not in event.text


def test_html_only_body_with_an_unfinished_marked_section_keeps_its_paragraph():
    event = parse_fixture(CRASHERS / "html-only-unfinished-marked-section.eml").event
    assert event.text == "hi" and event.html == "<p>hi</p>"


def test_html_only_body_of_unfinished_tags_keeps_what_came_before():
    event = parse_fixture(CRASHERS / "html-only-unfinished-tags.eml").event
    assert event.text == "hi"


def test_attachment_name_with_line_separators_is_kept_on_one_line():
    event = parse_fixture(CRASHERS / "postmark-attachment-name-with-line-separators.json").event
    assert [a.filename for a in event.attachments] == ["a b.pdf"]


def test_deeply_nested_json_post_is_unparseable():
    with pytest.raises(Unparseable, match="RecursionError"):
        parse_fixture(CRASHERS / "postmark-deeply-nested-json.json")
