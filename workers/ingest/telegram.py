"""Worker side of the Telegram channel: adapter, files via getFile, the ``/start`` greeting.

``normalize(raw, envelope, runtime)`` runs the pure adapter (``channels.telegram``), then
downloads every file the message names (getFile, then the file URL) into the blob store and
lists it in ``event.attachments``. A file that can never be downloaded (over the Bot API's
20 MB limit, an unknown or expired file_id) becomes a line in the message text, never a lost
message; a network error or Telegram's flood control raises ``Transient``, and RQ retries the
job (any other failure is the message's own: ``workers.ingest.isolation``).

``/start`` is answered here, for webhook and polling bots alike, with the bot's configured
greeting (sendMessage) and stores nothing (``Parsed(event=None)``). A Redis key per message
keeps a retried job from greeting twice. Other ignorable updates also store nothing.
"""
from __future__ import annotations

import hashlib
import logging

from redis.exceptions import RedisError
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

from channels import telegram as adapter
from channels.common import Parsed, RemoteFile
from channels.event import Attachment
from config.channels import TelegramBot
from clients.telegram import BotRunner, MissingToken
from workers.ingest.isolation import Transient
from workers.ingest.raw_payload import blob_store_io
from workers.ingest.pipeline import Quarantine

log = logging.getLogger(__name__)
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses larger files ("file is too big")
GREETED_KEY = "ticketgate:telegram:greeted:"  # + workspace:bot:chat:message
GREETED_TTL_S = 7 * 24 * 3600
RUNNER = BotRunner()  # one event loop and initialized Bot per bot for the worker process


class FileUnavailable(Exception):
    """A file Telegram will never hand out; the message keeps a note instead."""


def normalize(raw: bytes, envelope: dict, runtime) -> Parsed:
    try:
        parsed = adapter.parse(raw, workspace=envelope["workspace"],
                               account=envelope["account"],
                               received_at=envelope["received_at"], raw_ref=envelope["raw_ref"])
    except adapter.StartCommand as command:
        greet(runtime, envelope, command)
        return Parsed(event=None)
    except adapter.Ignored as ignored:
        log.info("telegram %s/%s: nothing to store (%s)", envelope["workspace"],
                 envelope["account"], ignored.reason)
        return Parsed(event=None)
    if parsed.remote_files:
        fetch_files(runtime, bot_config(runtime, envelope), parsed)
    return parsed


def bot_config(runtime, envelope: dict) -> TelegramBot:
    workspace = runtime.config.workspace(envelope["workspace"])
    bot = workspace.channels.bot(envelope["account"]) if workspace else None
    if bot is None:
        raise Quarantine("unknown_bot", f"bot {envelope['account']!r} is not configured in "
                         f"workspace {envelope['workspace']!r}")
    return bot


def call(bot: TelegramBot, coroutine_of):
    """Run ``await coroutine_of(Bot)``; a missing token is a configuration problem, a network
    error or flood control Telegram's (``Transient``)."""
    try:
        return RUNNER.run(bot, coroutine_of)
    except MissingToken as exc:
        raise Quarantine("telegram_token", str(exc)) from None
    except BadRequest:  # a NetworkError subclass, but Telegram's final answer
        raise
    except (NetworkError, RetryAfter) as exc:
        raise Transient(f"telegram: {exc}") from exc


def fetch_files(runtime, bot: TelegramBot, parsed: Parsed) -> None:
    notes = []
    for remote in parsed.remote_files:
        try:
            data = call(bot, lambda b, ref=remote: download(b, ref))
        except FileUnavailable as exc:
            notes.append(f"[attachment {remote.filename} could not be downloaded: {exc}]")
            continue
        with blob_store_io():
            sha = runtime.blobs.put(bytes(data))
        parsed.event.attachments.append(Attachment(
            filename=remote.filename, content_type=remote.content_type, size=len(data),
            sha256=sha))
    if notes:
        event = parsed.event
        event.text = "\n".join([event.text] + notes if event.text else notes)
        event.reply_text = event.text


async def download(bot, remote: RemoteFile) -> bytearray:
    """getFile, then the file itself; permanent refusals raise ``FileUnavailable``."""
    if remote.size > MAX_DOWNLOAD_BYTES:
        raise FileUnavailable(f"{remote.size} bytes, over the Bot API's 20 MB limit")
    try:
        file = await bot.get_file(remote.ref)
    except BadRequest as exc:  # "file is too big", "wrong file_id or the file is ..."
        raise FileUnavailable(exc.message) from None
    if file.file_size and file.file_size > MAX_DOWNLOAD_BYTES:
        raise FileUnavailable(f"{file.file_size} bytes, over the Bot API's 20 MB limit")
    if not file.file_path:
        raise FileUnavailable("Telegram gave no file path")
    if not file.file_path.startswith(bot.base_file_url):
        # python-telegram-bot reads a file_path naming an existing local file from the disk.
        raise FileUnavailable("the Bot API answered a file path that is not one of its URLs")
    try:
        return await file.download_as_bytearray()
    except (BadRequest, InvalidToken) as exc:  # the file URL answered 400/404: gone
        raise FileUnavailable(getattr(exc, "message", str(exc))) from None


def greet(runtime, envelope: dict, command: adapter.StartCommand) -> None:
    """Answer ``/start`` with the greeting, once per message even when the job is retried."""
    bot = bot_config(runtime, envelope)
    key = GREETED_KEY + hashlib.sha256(
        f"{envelope['workspace']}:{bot.name}:{command.chat_id}:{command.message_id}".encode()
    ).hexdigest()
    if runtime.redis.exists(key):
        return
    try:
        call(bot, lambda b: b.send_message(chat_id=command.chat_id, text=bot.greeting))
    except (Forbidden, BadRequest) as exc:  # the user blocked the bot, the chat is gone
        log.warning("telegram %s/%s: greeting not sent: %s", envelope["workspace"], bot.name,
                    exc)
    try:
        runtime.redis.set(key, 1, ex=GREETED_TTL_S)
    except RedisError:
        log.warning("greeting sent but not remembered (Redis)")
