"""The pure chat adapter: payload JSON -> TicketEvent (+ inline blobs, remote files)."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings, strategies as st

from channels import chat
from channels.common import Parsed, Unparseable
from tests.gateway.test_chat_webhook import ALMOST_PAYLOADS, JSON_VALUES, chat_payload

RECEIVED = "2024-05-01T12:00:05.000000+00:00"


def parse(payload, from_widget: bool = False) -> Parsed:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return chat.parse(raw, workspace="demo", account="widget", received_at=RECEIVED,
                      raw_ref="ab" * 32, from_widget=from_widget)


def test_event_fields():
    event = parse(chat_payload(message_id="m-1", text="My order\nis late")).event
    assert (event.channel, event.account, event.native_id) == ("chat", "widget", "m-1")
    assert event.sender.name == "Vera Visitor" and event.sender.address == "chat:visitor-1"
    assert (event.links, event.contacts) == ([], ["email:vera@customer.test"])
    assert event.thread.conversation_id == "conv-1"
    assert event.text == event.reply_text == "My order\nis late"
    assert event.subject == "My order"
    assert event.sent_at == "2024-05-01T12:00:00+00:00"
    assert event.received_at == RECEIVED and event.raw_ref == "ab" * 32
    assert event.dedupe_key == f"chat:conv-1:m-1:{event.content_hash[:16]}"
    assert event.classification.kind == "normal"


def test_no_email_no_link_and_email_is_lowercased():
    event = parse(chat_payload(visitor={"id": "v"})).event
    assert (event.links, event.contacts) == ([], [])
    visitor = {"id": "v", "email": "Vera@Customer.TEST"}
    assert parse(chat_payload(visitor=visitor)).event.contacts == ["email:vera@customer.test"]


def test_email_the_webhook_vouches_for_is_a_link():
    visitor = {"id": "v", "email": "vera@customer.test", "email_verified": True}
    event = parse(chat_payload(visitor=visitor)).event
    assert (event.links, event.contacts) == (["email:vera@customer.test"], [])


def test_widget_payload_never_vouches_for_an_email():
    visitor = {"id": "v", "email": "vera@customer.test", "email_verified": True}
    event = parse(chat_payload(visitor=visitor), from_widget=True).event
    assert (event.links, event.contacts) == ([], ["email:vera@customer.test"])


@pytest.mark.parametrize("flag", ["true", 1, None])
def test_email_verified_must_be_a_json_boolean(flag):
    visitor = {"id": "v", "email": "vera@customer.test", "email_verified": flag}
    with pytest.raises(Unparseable, match="email_verified"):
        parse(chat_payload(visitor=visitor))


@pytest.mark.parametrize("text, subject", [
    ("", chat.DEFAULT_SUBJECT),
    ("\n\n  Second line first  \nmore", "Second line first"),
    ("y" * 200, "y" * 79 + "…"),
])
def test_subject_is_the_first_line_truncated(text, subject):
    attachments = [{"content_base64": "aGk=", "filename": "a.txt"}]
    assert parse(chat_payload(text=text, attachments=attachments)).event.subject == subject


@pytest.mark.parametrize("given, expected", [
    ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T12:00:00", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T12:00:00.250z", "2024-05-01T12:00:00.250000+00:00"),
    ("", RECEIVED),
])
def test_sent_at_is_normalized_to_utc(given, expected):
    assert parse(chat_payload(sent_at=given)).event.sent_at == expected


def test_retry_is_the_same_key_and_reused_id_with_new_content_is_not():
    first = parse(chat_payload(message_id="m-1", text="Hello")).event
    retry = parse(chat_payload(message_id="m-1", text="Hello", sent_at="")).event
    reused = parse(chat_payload(message_id="m-1", text="Something else")).event
    assert first.dedupe_key == retry.dedupe_key
    assert reused.dedupe_key != first.dedupe_key


def test_base64_attachment_is_inline_and_url_is_remote():
    data = b"%PDF-1.4 fake"
    parsed = parse(chat_payload(attachments=[
        {"content_base64": base64.b64encode(data).decode(), "filename": "../../etc/invoice.pdf",
         "content_type": "Application/PDF"},
        {"url": "https://files.test/path/scan%20one.png", "content_type": "image/png"}]))
    [inline] = parsed.event.attachments
    sha = hashlib.sha256(data).hexdigest()
    assert (inline.filename, inline.content_type, inline.size, inline.sha256) == (
        "invoice.pdf", "application/pdf", len(data), sha)
    assert parsed.blobs == {sha: data}
    [remote] = parsed.remote_files
    assert (remote.ref, remote.filename, remote.content_type) == (
        "https://files.test/path/scan%20one.png", "scan one.png", "image/png")


def test_attachment_without_name_gets_one():
    parsed = parse(chat_payload(attachments=[{"url": "https://files.test/"}]))
    assert parsed.remote_files[0].filename == "attachment"


@pytest.mark.parametrize("raw", [
    b"", b"not json", b"\xff", b"[]", b"{}", json.dumps(chat_payload(text="", attachments=[])),
    json.dumps(chat_payload(visitor={"id": " "})),
])
def test_unusable_input_is_unparseable(raw):
    with pytest.raises(Unparseable):
        parse(raw if isinstance(raw, bytes) else raw.encode())


@settings(max_examples=300, deadline=None)
@given(data=JSON_VALUES | ALMOST_PAYLOADS)
def test_any_json_is_an_event_or_unparseable(data):
    try:
        parsed = parse(json.dumps(data).encode())
    except Unparseable as exc:
        assert exc.reason
        return
    event = parsed.event
    assert event.dedupe_key.startswith(f"chat:{event.thread.conversation_id}:{event.native_id}:")
    assert event.sender.address.startswith("chat:") and event.subject
    assert event.text.strip() or parsed.event.attachments or parsed.remote_files


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=300).filter(str.strip))
def test_text_round_trips_and_subject_is_bounded(text):
    event = parse(chat_payload(text=text)).event
    assert event.text == text
    assert 0 < len(event.subject) <= chat.SUBJECT_CHARS
