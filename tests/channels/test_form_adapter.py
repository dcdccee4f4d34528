"""The contact form adapter: payload JSON -> TicketEvent, and Unparseable for what cannot be."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels import form
from channels.common import Unparseable

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def payload(**overrides) -> bytes:
    document = {"v": 1, "workspace": "demo", "via": "form", "submission_id": "abcdefgh12345678",
                "name": "Alice Liddell", "email": "Alice@Customer.TEST", "subject": "Broken",
                "message": "The printer is on fire.\nPlease help.", "attachments": [],
                "remote_ip": "192.0.2.1", "user_agent": "test", "origin": "", "referrer": "",
                "submitted_at": "2025-01-02T03:04:05.000000+00:00"}
    document.update(overrides)
    return json.dumps(document).encode()


def parse(raw: bytes, **kwargs):
    return form.parse(raw, workspace="demo", account="form", received_at="2025-01-02T03:04:06Z",
                      raw_ref=hashlib.sha256(raw).hexdigest(), **kwargs)


def test_fields_become_the_event():
    raw = payload()
    event = parse(raw).event
    assert event.channel == "form" and event.account == "form" and event.workspace == "demo"
    assert (event.sender.name, event.sender.address) == ("Alice Liddell", "alice@customer.test")
    assert event.subject == "Broken"
    assert event.text == event.reply_text == "The printer is on fire.\nPlease help."
    assert event.html == "" and event.language == ""
    assert event.native_id == "abcdefgh12345678"
    assert event.sent_at == "2025-01-02T03:04:05.000000+00:00"
    assert event.dedupe_key == "form:" + hashlib.sha256(raw).hexdigest()
    assert event.classification.kind == "normal"
    assert event.thread.subject_number is None and event.thread.conversation_id == ""


def test_same_payload_same_dedupe_key_and_different_payload_another():
    assert parse(payload()).event.dedupe_key == parse(payload()).event.dedupe_key
    assert parse(payload()).event.dedupe_key != parse(payload(message="other")).event.dedupe_key


def test_empty_subject_gets_the_default():
    assert parse(payload(subject="")).event.subject == "Contact form"
    assert parse(payload(subject=None)).event.subject == "Contact form"
    assert parse(payload(subject="  \t ")).event.subject == "Contact form"


def test_subject_token_is_a_threading_hint():
    assert parse(payload(subject="Re: [#42] Broken")).event.thread.subject_number == 42
    prefixed = payload(subject="[ACME#7] still broken")
    assert parse(prefixed, subject_prefix="ACME").event.thread.subject_number == 7
    assert parse(prefixed).event.thread.subject_number is None


def test_attachments_are_stored_inline():
    data = base64.b64encode(PNG).decode()
    parsed = parse(payload(attachments=[{"filename": "shot.png", "content_type": "image/png",
                                         "size": len(PNG), "data": data}]))
    [attachment] = parsed.event.attachments
    assert attachment.filename == "shot.png" and attachment.content_type == "image/png"
    assert attachment.size == len(PNG)
    assert parsed.blobs[attachment.sha256] == PNG


def test_attachment_without_name_or_type_gets_defaults():
    parsed = parse(payload(attachments=[{"data": base64.b64encode(b"hi").decode()}]))
    [attachment] = parsed.event.attachments
    assert (attachment.filename, attachment.content_type) == ("attachment-1",
                                                              "application/octet-stream")


def test_control_characters_and_surrogates_are_removed():
    raw = json.dumps({"email": "a@b.test", "name": "Al\x00ice\ud800", "message": "a\x00b\r\nc",
                      "subject": "x\x07y"}).encode()
    event = parse(raw).event
    assert event.sender.name == "Alice?" and event.text == "ab\nc" and event.subject == "xy"


def test_no_message_but_an_attachment_is_still_a_message():
    data = base64.b64encode(PNG).decode()
    event = parse(payload(message="", attachments=[{"data": data}])).event
    assert event.text == "" and len(event.attachments) == 1


def test_native_id_falls_back_to_the_raw_ref():
    raw = payload(submission_id="")
    assert parse(raw).event.native_id == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (payload(email=""), "no valid sender email"),
    (payload(email="no-at-sign"), "no valid sender email"),
    (payload(email=5), "'email' is not a string"),
    (payload(message=["x"]), "'message' is not a string"),
    (payload(message="", attachments=[]), "neither a message nor attachments"),
    (payload(attachments={"a": 1}), "'attachments' is not a list"),
    (payload(attachments=["x"]), "attachment 1 has no base64 data"),
    (payload(attachments=[{"data": "!!!"}]), "attachment 1 is not valid base64"),
    (payload(attachments=[{"data": "aGk=", "filename": 3}]), "'filename' is not a string"),
])
def test_invalid_payloads_are_unparseable(raw, reason):
    with pytest.raises(Unparseable) as error:
        parse(raw)
    assert reason in error.value.reason


def test_worker_normalize_uses_the_workspace_prefix(sqlite_runtime):
    from workers.ingest.form import normalize
    raw = payload(subject="[#3] again")
    envelope = {"workspace": "demo", "account": "form", "received_at": "2025-01-01T00:00:00Z",
                "raw_ref": hashlib.sha256(raw).hexdigest()}
    assert normalize(raw, envelope, sqlite_runtime).event.thread.subject_number == 3
    with pytest.raises(Unparseable):
        normalize(raw, {**envelope, "workspace": "nope"}, sqlite_runtime)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children,
                                                                       max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "email", "subject", "message", "attachments",
                                        "submission_id", "submitted_at", "other"]),
                       json_values))
def test_any_json_object_is_an_event_or_unparseable(document):
    try:
        event = parse(json.dumps(document).encode()).event
    except Unparseable:
        return
    assert event.sender.address == event.sender.address.strip().lower()
    json.dumps(event.to_dict())  # serializable, as the queue and the store need


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_an_event_or_unparseable(raw):
    try:
        parse(raw)
    except Unparseable:
        pass
