"""Telegram updates through the worker pipeline (``ingest_with``) on SQLite and PostgreSQL,
with files fetched from the fake Bot API."""
from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import select
from telegram.error import NetworkError

from queues.intake import Intake
from store.models import Identity, Message, QuarantineEntry, Ticket
from tests.telegram import updates as tg
from tests.telegram.conftest import GREETING, telegram_config
from tests.workers.test_pipeline import count
from workers.ingest.job import ingest_with
from workers.ingest.isolation import Transient

PHOTO = b"\xff\xd8\xff\xe0" + b"JPEG-bytes" * 100


def accept(rt, update: dict, bot: str = "support", workspace: str = "demo") -> dict:
    return Intake(rt.redis).accept("telegram", workspace, bot, tg.raw(update),
                                   {"bot": bot, "update_id": update["update_id"]})


def deliver(rt, update: dict, bot: str = "support", workspace: str = "demo") -> str:
    [outcome] = ingest_with(rt, [accept(rt, update, bot, workspace)])
    return outcome


def tickets(rt):
    with rt.sessions() as s:
        return s.scalars(select(Ticket).order_by(Ticket.number)).all()


def messages(rt):
    with rt.sessions() as s:
        return s.scalars(select(Message).order_by(Message.id)).all()


def set_status(rt, number: int, status: str) -> None:
    with rt.sessions.begin() as s:
        s.scalar(select(Ticket).where(Ticket.number == number)).status = status


def test_text_message_creates_a_telegram_ticket(runtime):
    assert deliver(runtime, tg.message(1, 11, "Where is my parcel?")) == "created"
    [ticket] = tickets(runtime)
    assert (ticket.channel, ticket.subject, ticket.status) == ("telegram", "Where is my parcel?",
                                                               "new")
    [message] = messages(runtime)
    assert message.from_address == f"telegram:{tg.CUSTOMER_ID}"
    assert message.from_name == "Jana Nováková" and message.native_id == f"{tg.CUSTOMER_ID}:11"
    with runtime.sessions() as s:
        assert s.scalars(select(Identity.kind)).all() == ["telegram"]


def test_photo_is_downloaded_into_blobs_and_listed(runtime, fake_api):
    fake_api.add_file("AgACAgIAAxkBAAIBZ2Zl-large", PHOTO, "photos/file_17.jpg")
    assert deliver(runtime, tg.photo(2, 12)) == "created"
    [message] = messages(runtime)
    sha = hashlib.sha256(PHOTO).hexdigest()
    assert message.attachments == [{"filename": "photo-12.jpg", "content_type": "image/jpeg",
                                    "size": len(PHOTO), "sha256": sha}]
    assert runtime.blobs.get(sha) == PHOTO
    assert message.text == "The package arrived broken"
    assert [p["file_id"] for p in fake_api.called("getFile")] == ["AgACAgIAAxkBAAIBZ2Zl-large"]
    assert fake_api.called("download") == [{"path": "photos/file_17.jpg"}]


def test_downloads_work_when_the_caller_runs_an_event_loop(sqlite_runtime, fake_api):
    """The Bot API calls run on their own loop thread, whatever the calling thread does."""
    fake_api.add_file("AgACAgIAAxkBAAIBZ2Zl-large", PHOTO)

    async def caller():
        return deliver(sqlite_runtime, tg.photo(2, 12))
    assert asyncio.run(caller()) == "created"
    assert len(messages(sqlite_runtime)[0].attachments) == 1


def test_files_telegram_refuses_become_notes_not_lost_messages(sqlite_runtime, fake_api):
    fake_api.too_big.add("BQACAgIAAxkBAAIBaGZl-doc")
    assert deliver(sqlite_runtime, tg.document(3, 13)) == "created"
    assert deliver(sqlite_runtime, tg.photo(4, 14, file_id="expired", caption="see photo")
                   ) == "threaded"
    assert deliver(sqlite_runtime, tg.document(5, 15, file_id="huge", size=25 * 1024 * 1024)
                   ) == "threaded"
    notes = [m.text for m in messages(sqlite_runtime)]
    assert "invoice-2024-117.pdf could not be downloaded: File is too big" in notes[0]
    assert notes[1].startswith("see photo\n[attachment photo-14.jpg could not be downloaded")
    assert "over the Bot API's 20 MB limit" in notes[2]
    assert "huge" not in [p["file_id"] for p in fake_api.called("getFile")]  # not even asked
    assert all(m.attachments == [] for m in messages(sqlite_runtime))


def test_file_gone_at_download_time_is_a_note(sqlite_runtime, fake_api):
    fake_api.add_file("AgACAgIAAxkBAAIBZ2Zl-large", PHOTO, "photos/gone.jpg")
    fake_api.gone_paths.add("photos/gone.jpg")
    assert deliver(sqlite_runtime, tg.photo(6, 16)) == "created"
    assert "could not be downloaded" in messages(sqlite_runtime)[0].text


def test_network_error_raises_and_the_retried_job_stores_once(sqlite_runtime, fake_api):
    fake_api.add_file("AgACAgIAAxkBAAIBZ2Zl-large", PHOTO)
    fake_api.failures.append(("getFile", 502, "Bad Gateway"))
    envelope = accept(sqlite_runtime, tg.photo(7, 17))
    with pytest.raises(Transient, match="Bad Gateway") as raised:
        ingest_with(sqlite_runtime, [envelope])
    assert isinstance(raised.value.__cause__, NetworkError)
    assert count(sqlite_runtime, Message) == 0
    assert ingest_with(sqlite_runtime, [dict(envelope)]) == ["created"]  # RQ's retry
    assert ingest_with(sqlite_runtime, [dict(envelope)]) == ["duplicate"]
    assert len(messages(sqlite_runtime)[0].attachments) == 1


def test_double_delivery_under_new_update_ids_is_one_message(runtime):
    assert deliver(runtime, tg.message(8, 18, "Hello")) == "created"
    assert deliver(runtime, tg.message(8, 18, "Hello")) == "duplicate"
    assert deliver(runtime, tg.message(9, 18, "Hello")) == "duplicate"  # refetched by polling
    assert count(runtime, Message) == 1


def test_edit_replaces_the_stored_text(runtime):
    assert deliver(runtime, tg.message(10, 19, "Helo, my ordr is late")) == "created"
    assert deliver(runtime, tg.edited(11, 19, "Hello, my order is late", tg.DATE + 60)
                   ) == "edited"
    assert deliver(runtime, tg.edited(12, 19, "older edit", tg.DATE + 30)) == "duplicate"
    [message] = messages(runtime)
    assert (message.text, message.revision) == ("Hello, my order is late", str(tg.DATE + 60))
    assert tickets(runtime)[0].message_count == 1


def test_start_greets_through_send_message_and_creates_nothing(runtime, fake_api):
    envelope = accept(runtime, tg.message(13, 20, "/start campaign-7"))
    assert ingest_with(runtime, [envelope]) == ["ignored"]
    assert [(m["chat_id"], m["text"]) for m in fake_api.sent] == [(tg.CUSTOMER_ID, GREETING)]
    assert ingest_with(runtime, [dict(envelope)]) == ["ignored"]  # a retried job
    assert len(fake_api.sent) == 1
    assert count(runtime, Ticket) == 0 and count(runtime, QuarantineEntry) == 0


def test_greeting_to_a_user_who_blocked_the_bot_is_not_retried(sqlite_runtime, fake_api):
    fake_api.failures.append(("sendMessage", 403, "Forbidden: bot was blocked by the user"))
    envelope = accept(sqlite_runtime, tg.message(14, 21, "/start"))
    assert ingest_with(sqlite_runtime, [envelope]) == ["ignored"]
    assert ingest_with(sqlite_runtime, [dict(envelope)]) == ["ignored"]
    assert [p["chat_id"] for p in fake_api.called("sendMessage")] == [tg.CUSTOMER_ID]
    assert fake_api.sent == []


def test_ignorable_updates_store_nothing_and_quarantine_nothing(sqlite_runtime):
    update = {"update_id": 15, "callback_query": {"id": "4382", "chat_instance": "-1",
                                                  "from": tg.user(), "data": "yes"}}
    assert deliver(sqlite_runtime, update) == "ignored"
    assert deliver(sqlite_runtime, tg.message(16, 22, None, left_chat_member=tg.user(5))
                   ) == "ignored"
    assert count(sqlite_runtime, Ticket) == 0 and count(sqlite_runtime, QuarantineEntry) == 0


def test_unparseable_update_is_quarantined(sqlite_runtime):
    assert deliver(sqlite_runtime, {"update_id": 17, "message": {"message_id": 1}}
                   ) == "quarantined"
    with sqlite_runtime.sessions() as s:
        [entry] = s.scalars(select(QuarantineEntry)).all()
    assert entry.reason == "unparseable" and entry.channel == "telegram"


def test_file_of_an_unconfigured_bot_is_quarantined_for_replay(sqlite_runtime):
    assert deliver(sqlite_runtime, tg.photo(18, 23), bot="ghost") == "quarantined"
    with sqlite_runtime.sessions() as s:
        assert s.scalars(select(QuarantineEntry.reason)).all() == ["unknown_bot"]


def test_own_contact_links_the_phone_to_the_customer(runtime):
    assert deliver(runtime, tg.message(19, 24, "Hi")) == "created"
    assert deliver(runtime, tg.contact(20, 25, phone="+420 601 234 567")) == "threaded"
    with runtime.sessions() as s:
        identities = {(i.kind, i.value): i.customer_id for i in s.scalars(select(Identity))}
    assert set(identities) == {("telegram", str(tg.CUSTOMER_ID)), ("phone", "+420601234567")}
    assert len(set(identities.values())) == 1


def test_one_chat_is_one_ticket(runtime):
    assert deliver(runtime, tg.message(21, 26, "first")) == "created"
    assert deliver(runtime, tg.message(22, 27, "second")) == "threaded"
    other = 311111111
    assert deliver(runtime, tg.message(23, 1, "someone else", chat_id=other)) == "created"
    assert [t.message_count for t in tickets(runtime)] == [2, 1]


def test_each_bot_is_its_own_conversation_of_one_customer(sqlite_runtime):
    assert deliver(sqlite_runtime, tg.message(24, 28, "to support")) == "created"
    assert deliver(sqlite_runtime, tg.message(24, 28, "to poller"), bot="poller") == "created"
    first, second = tickets(sqlite_runtime)
    assert first.customer_id == second.customer_id


@pytest.mark.parametrize("status, policy, expected", [
    ("closed", {"on_closed": "new_ticket"}, "new ticket"),
    ("closed", {"on_closed": "reopen"}, "reopened"),
    ("resolved", {"on_resolved": "reopen"}, "reopened"),
    ("resolved", {"on_resolved": "new_ticket"}, "new ticket"),
])
def test_finished_conversation_follows_the_policy(runtime, fake_api, status, policy, expected):
    runtime.config = telegram_config(fake_api, conversation=policy)
    deliver(runtime, tg.message(30, 40, "first"))
    set_status(runtime, 1, status)
    deliver(runtime, tg.message(31, 41, "again"))
    deliver(runtime, tg.message(32, 42, "and again"))
    found = tickets(runtime)
    if expected == "reopened":
        assert [(t.status, t.message_count) for t in found] == [("open", 3)]
    else:
        assert [(t.status, t.message_count) for t in found] == [(status, 1), ("new", 2)]
        assert found[1].follow_up_of_id == found[0].id
