"""The pure Telegram adapter: Bot API updates -> ticket events, ignorable updates, bad input."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels import telegram
from channels.common import Parsed, Unparseable
from tests.telegram import updates as tg

NOW = "2024-06-10T06:13:21.000000+00:00"


def parse(update, account: str = "support") -> Parsed:
    data = tg.raw(update) if isinstance(update, dict) else update
    return telegram.parse(data, workspace="demo", account=account, received_at=NOW,
                          raw_ref="ab" * 32)


def test_text_message_becomes_an_event():
    event = parse(tg.message(10001, 55, "My order 4711 is late\nCan you check?")).event
    assert event.channel == "telegram" and event.account == "support"
    assert event.native_id == f"{tg.CUSTOMER_ID}:55"
    assert event.dedupe_key == f"telegram:support:{tg.CUSTOMER_ID}:55"
    assert event.sender.name == "Jana Nováková"
    assert event.sender.address == f"telegram:{tg.CUSTOMER_ID}"
    assert event.thread.conversation_id == str(tg.CUSTOMER_ID)
    assert event.text == event.reply_text == "My order 4711 is late\nCan you check?"
    assert event.subject == "My order 4711 is late"
    assert event.sent_at == "2024-06-10T06:13:20+00:00"
    assert event.revision == "" and event.links == [] and event.content_hash
    assert event.raw_ref == "ab" * 32 and event.received_at == NOW


def test_long_first_line_is_cut_for_the_subject():
    event = parse(tg.message(1, 2, "x" * 200)).event
    assert len(event.subject) == telegram.SUBJECT_CHARS and event.subject.endswith("…")
    assert event.text == "x" * 200


def test_photo_names_the_largest_size_and_keeps_the_caption():
    parsed = parse(tg.photo(10002, 56))
    assert parsed.event.text == "The package arrived broken"
    [remote] = parsed.remote_files
    assert remote.ref == "AgACAgIAAxkBAAIBZ2Zl-large"
    assert remote.filename == "photo-56.jpg" and remote.content_type == "image/jpeg"
    assert remote.size == 48213
    assert parsed.event.subject == "The package arrived broken"


def test_photo_without_caption_has_the_default_subject():
    parsed = parse(tg.photo(10003, 57, caption=None))
    assert parsed.event.subject == telegram.DEFAULT_SUBJECT and parsed.event.text == ""


def test_document_keeps_name_type_and_size():
    [remote] = parse(tg.document(10004, 58)).remote_files
    assert (remote.ref, remote.filename, remote.content_type, remote.size) == (
        "BQACAgIAAxkBAAIBaGZl-doc", "invoice-2024-117.pdf", "application/pdf", 20321)


def test_voice_note_gets_a_file_name_and_type():
    update = tg.message(1, 59, None, voice={"duration": 3, "mime_type": "audio/ogg",
                                            "file_id": "AwACAgvoice", "file_unique_id": "v1",
                                            "file_size": 9000})
    [remote] = parse(update).remote_files
    assert remote.filename == "voice-59.ogg" and remote.content_type == "audio/ogg"


def test_own_contact_links_the_phone_in_e164():
    event = parse(tg.contact(10005, 60, phone="420601234567")).event
    assert event.links == ["phone:+420601234567"]
    assert "+420" not in event.text and "420601234567" in event.text


def test_someone_elses_contact_links_nothing():
    assert parse(tg.contact(10006, 61, user_id=999)).event.links == []
    assert parse(tg.contact(10007, 62, user_id=None)).event.links == []


@pytest.mark.parametrize("number, expected", [
    ("420601234567", "+420601234567"), ("+1 (555) 010-9999", "+15550109999"),
    ("0049 30 1234567", "+49301234567"), ("12", ""), ("abc", ""), (None, ""),
])
def test_e164(number, expected):
    assert telegram.e164(number) == expected


def test_edited_message_has_the_same_dedupe_key_and_a_revision():
    original = parse(tg.message(10008, 63, "Helo")).event
    edit = parse(tg.edited(10009, 63, "Hello", edit_date=tg.DATE + 30)).event
    assert edit.dedupe_key == original.dedupe_key
    assert edit.revision == str(tg.DATE + 30) and edit.text == "Hello"


@pytest.mark.parametrize("text, payload", [("/start", ""), ("/start ref-42", "ref-42"),
                                           ("/start@acme_support_bot", "")])
def test_start_command_is_raised_for_the_greeting(text, payload):
    with pytest.raises(telegram.StartCommand) as caught:
        parse(tg.message(10010, 64, text))
    assert caught.value.chat_id == tg.CUSTOMER_ID and caught.value.payload == payload
    assert caught.value.message_id == 64


def test_other_commands_are_messages():
    assert parse(tg.message(1, 2, "/help me please")).event.text == "/help me please"


def test_an_edited_start_is_ignored():
    with pytest.raises(telegram.Ignored) as caught:
        parse(tg.edited(1, 2, "/start", tg.DATE + 5))
    assert not isinstance(caught.value, telegram.StartCommand)


@pytest.mark.parametrize("update, reason", [
    ({"update_id": 5, "callback_query": {"id": "1", "data": "x"}}, "callback_query update"),
    ({"update_id": 5, "channel_post": {"message_id": 1}}, "channel_post update"),
    ({"update_id": 5, "my_chat_member": "junk is fine: never parsed"}, "my_chat_member update"),
    ({"update_id": 5}, "empty update"),
    (tg.message(5, 6, None, new_chat_members=[tg.user(1)]), "service message"),
    (tg.message(5, 6, None), "message without content"),
])
def test_ignorable_updates(update, reason):
    with pytest.raises(telegram.Ignored) as caught:
        parse(update)
    assert caught.value.reason == reason


def test_content_of_an_unknown_kind_is_kept_with_a_note():
    event = parse(tg.message(5, 6, None, story={"chat": tg.private_chat(), "id": 3})).event
    assert "story" in event.text


def test_location_and_sticker_are_described():
    located = parse(tg.message(5, 6, None, location={"latitude": 50.08, "longitude": 14.42}))
    assert located.event.text == "[location: 50.08, 14.42]"
    sticker = {"file_id": "CAACAg", "file_unique_id": "s", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
    assert parse(tg.message(5, 7, None, sticker=sticker)).event.text == "[sticker 👍]"


def test_anonymous_group_admin_is_the_sender_chat():
    update = tg.message(5, 6, "hi", chat_id=-100123)
    body = update["message"]
    del body["from"]
    body["chat"] = {"id": -100123, "title": "Acme fans", "type": "supergroup"}
    body["sender_chat"] = body["chat"]
    event = parse(update).event
    assert event.sender.address == "telegram:-100123" and event.sender.name == "Acme fans"


@pytest.mark.parametrize("raw, reason", [
    (b"\xff\xfe", "not JSON"), (b"[1, 2]", "integer update_id"),
    (b'{"update_id": "7"}', "integer update_id"), (b'{"update_id": true}', "integer update_id"),
    (json.dumps({"update_id": 1, "message": "hi"}).encode(), "not a JSON object"),
    (json.dumps({"update_id": 1, "message": {"message_id": 1}}).encode(), "malformed"),
    (json.dumps({"update_id": 1, "message": {"message_id": "1", "date": 1,
                                             "chat": {"id": 1, "type": "private"}}}).encode(),
     "integer message_id"),
    (json.dumps(tg.message(1, 2, None, photo="big")).encode(), "malformed"),
])
def test_not_an_update_is_unparseable(raw, reason):
    with pytest.raises(Unparseable) as caught:
        parse(raw)
    assert reason in caught.value.reason


def test_message_without_sender_is_unparseable():
    update = tg.message(1, 2, "hi")
    del update["message"]["from"]
    with pytest.raises(Unparseable, match="sender"):
        parse(update)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
MESSAGE_KEYS = st.sampled_from(["message_id", "date", "chat", "from", "text", "caption",
                                "photo", "document", "contact", "edit_date", "sticker",
                                "location", "voice", "sender_chat", "new_chat_members"])


def message_like():
    """Mostly valid messages with some fields replaced by arbitrary JSON."""
    base = tg.message(1, 2, "hello")["message"]
    return st.dictionaries(MESSAGE_KEYS, JSON, max_size=5).map(lambda junk: {**base, **junk})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.builds(lambda kind, body: json.dumps({"update_id": 9, kind: body}).encode(),
              st.sampled_from(["message", "edited_message"]), message_like() | JSON),
))
def test_any_input_is_an_event_or_a_clear_rejection(raw):
    try:
        parsed = parse(raw)
    except (Unparseable, telegram.Ignored) as exc:
        assert exc.reason
        return
    event = parsed.event
    assert event.dedupe_key.startswith("telegram:support:")
    assert event.sender.address.startswith("telegram:")
    assert isinstance(event.text, str) and event.subject
    json.dumps(event.to_dict())
