"""A Bot API answer is not trusted to name a file: python-telegram-bot reads a ``getFile`` path
that names an existing local file straight from the disk, so the worker takes only file URLs
under the bot's ``base_file_url`` (issue 10: server-side fetches)."""
from __future__ import annotations

import hashlib

from tests.telegram import updates as tg
from tests.telegram.test_worker import deliver, messages


def test_a_local_file_path_from_the_bot_api_is_never_read(runtime, fake_api, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"top secret")
    fake_api.add_file("AgACAgIAAxkBAAIBZ2Zl-large", b"unused", str(secret))
    assert deliver(runtime, tg.photo(2, 12)) == "created"
    [message] = messages(runtime)
    assert message.attachments == []
    assert "could not be downloaded: the Bot API answered a file path" in message.text
    assert not runtime.blobs.exists(hashlib.sha256(b"top secret").hexdigest())
