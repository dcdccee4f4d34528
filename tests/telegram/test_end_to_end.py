"""Webhook -> Redis -> a real RQ worker process (``python -m workers.run telegram``) -> store,
with the worker fetching a photo from and greeting through the fake Bot API."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from store.models import Message, Ticket
from tests.integration.harness import process_env, start_worker
from tests.telegram import updates as tg
from tests.telegram.conftest import GREETING
from tests.telegram.test_webhook import post

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def test_webhook_to_worker_process(sqlite_runtime, client, fake_api, tmp_path):
    fake_api.add_file("AgACAgIAAxkBAAIBZ2Zl-large", PHOTO, "photos/file_3.jpg")
    deliveries = [tg.message(70001, 1, "/start"), tg.message(70002, 2, "Hi, the lamp is broken"),
                  tg.photo(70003, 3, caption="Photo of the lamp"),
                  tg.edited(70004, 2, "Hi, the lamp I bought is broken", tg.DATE + 90),
                  tg.photo(70003, 3, caption="Photo of the lamp")]  # Telegram's retry
    statuses = [post(client, update).get_json()["status"] for update in deliveries]
    assert statuses == ["accepted"] * 4 + ["duplicate"]
    worker = start_worker(process_env(sqlite_runtime, tmp_path), "telegram")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output.decode(errors="replace")[-3000:]
    with sqlite_runtime.sessions() as s:
        [ticket] = s.scalars(select(Ticket)).all()
        texts = [(m.text, m.attachments) for m in s.scalars(select(Message).order_by(Message.id))]
    assert ticket.channel == "telegram" and ticket.message_count == 2
    sha = hashlib.sha256(PHOTO).hexdigest()
    assert texts == [("Hi, the lamp I bought is broken", []),
                     ("Photo of the lamp", [{"filename": "photo-3.jpg",
                                             "content_type": "image/jpeg",
                                             "size": len(PHOTO), "sha256": sha}])]
    assert sqlite_runtime.blobs.get(sha) == PHOTO
    assert [m["text"] for m in fake_api.sent] == [GREETING]
