"""The Telegram adapter: one Bot API ``Update`` (the JSON Telegram sends) -> a ``TicketEvent``.

Pure: no I/O. Photos, documents, voice notes and other files come back as ``RemoteFile``
(ref = Telegram ``file_id``) for the worker to download with getFile.

How the JSON is read (a deliberate choice): the update's *type* is read from the dict, and only
``message`` / ``edited_message`` are parsed, with python-telegram-bot's ``Message.de_json(data,
None)`` (documented field names, ``full_name``, photo sizes), so a malformed update of a type we
ignore (callback_query, poll, ...) can never make anything unparseable. ``de_json`` does not
check types, so every field used here is checked; anything it raises is an ``Unparseable``.

Three outcomes besides a message:
- ``Unparseable``: not an update at all (quarantined);
- ``Ignored``: an update with nothing to store (other update types, service messages such as
  "user joined", an edited ``/start``); the worker stores nothing and counts it;
- ``StartCommand`` (an ``Ignored``): ``/start`` or ``/start <payload>``: the worker greets.
"""
from __future__ import annotations

import json
import re
from datetime import timezone

from telegram import Message

from channels.common import Parsed, RemoteFile, Unparseable, content_hash
from channels.event import Address, ThreadHints, TicketEvent

CHANNEL = "telegram"
MESSAGE_TYPES = ("message", "edited_message")
DEFAULT_SUBJECT = "Telegram chat"
SUBJECT_CHARS = 80
# Message fields that carry no customer content (Bot API "Message" object).
STRUCTURE = frozenset({
    "message_id", "message_thread_id", "from", "sender_chat", "sender_boost_count",
    "sender_business_bot", "date", "business_connection_id", "chat", "forward_origin",
    "is_topic_message", "is_automatic_forward", "reply_to_message", "external_reply", "quote",
    "reply_to_story", "via_bot", "edit_date", "has_protected_content", "is_from_offline",
    "media_group_id", "author_signature", "entities", "caption_entities", "link_preview_options",
    "effect_id", "show_caption_above_media", "has_media_spoiler", "reply_markup",
    "paid_star_count"})
# Fields of service messages: something happened in the chat, nobody wrote anything.
SERVICE = frozenset({
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
    "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
    "channel_chat_created", "message_auto_delete_timer_changed", "migrate_to_chat_id",
    "migrate_from_chat_id", "pinned_message", "users_shared", "chat_shared",
    "write_access_allowed", "proximity_alert_triggered", "boost_added", "chat_background_set",
    "forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
    "general_forum_topic_hidden", "general_forum_topic_unhidden", "giveaway_created",
    "video_chat_scheduled", "video_chat_started", "video_chat_ended",
    "video_chat_participants_invited", "web_app_data", "connected_website"})
# Shown as text (no file to fetch): field -> how it reads.
DESCRIBED = ("contact", "location", "venue", "sticker", "poll", "dice")
# Files downloaded through getFile: field -> (file name stem, extension, default type).
FILES = {"document": ("document", "", "application/octet-stream"),
         "audio": ("audio", ".mp3", "audio/mpeg"),
         "voice": ("voice", ".ogg", "audio/ogg"),
         "video": ("video", ".mp4", "video/mp4"),
         "video_note": ("video-note", ".mp4", "video/mp4"),
         "animation": ("animation", ".mp4", "video/mp4")}
PHONE_JUNK = re.compile(r"[\s().\-/]")
E164_DIGITS = re.compile(r"^\+?[1-9]\d{7,14}$")


class Ignored(Exception):
    """An update with nothing to store; ``reason`` says which kind."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StartCommand(Ignored):
    """``/start`` (optionally with a deep-link payload): answer with the bot's greeting."""

    def __init__(self, chat_id: int, message_id: int, payload: str) -> None:
        super().__init__("start command")
        self.chat_id, self.message_id, self.payload = chat_id, message_id, payload


def parse(raw: bytes, *, workspace: str, account: str, received_at: str,
          raw_ref: str = "") -> Parsed:
    """Normalize one update of bot ``account``; raises ``Unparseable`` or ``Ignored``."""
    update = load_update(raw)
    kind = next((k for k in MESSAGE_TYPES if k in update), None)
    if kind is None:
        other = next((k for k in update if k != "update_id"), "empty")
        raise Ignored(f"{other} update")
    data = update[kind]
    message = read_message(data)
    edited = kind == "edited_message"
    start = start_command(message)
    if start is not None:
        raise Ignored("edited start command") if edited else start
    content = _content_fields(data)
    if not content or content <= SERVICE:
        raise Ignored("service message" if content else "message without content")
    files = remote_files(message)
    text = message_text(message, data, content)
    sender = _sender(message)
    chat_id, message_id = message.chat.id, message.message_id
    event = TicketEvent(
        workspace=workspace, channel=CHANNEL, account=account, raw_ref=raw_ref,
        received_at=received_at, native_id=f"{chat_id}:{message_id}",
        dedupe_key=f"telegram:{account}:{chat_id}:{message_id}",
        sender=sender, sent_at=message.date.astimezone(timezone.utc).isoformat(),
        subject=subject_of(text), text=text, reply_text=text,
        thread=ThreadHints(conversation_id=str(chat_id)),
        content_hash=content_hash(sender.address, text, *(f.ref for f in files)),
        links=contact_links(message), revision=_revision(message) if edited else "")
    return Parsed(event=event, remote_files=files)


def load_update(raw: bytes) -> dict:
    """The update as a dict: a JSON object with an integer ``update_id``."""
    try:
        update = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Unparseable(f"not JSON: {exc}") from None
    if not isinstance(update, dict) or not is_int(update.get("update_id")):
        raise Unparseable("not a Telegram update (a JSON object with an integer update_id)")
    return update


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_message(data) -> Message:
    if not isinstance(data, dict):
        raise Unparseable("the message is not a JSON object")
    try:
        message = Message.de_json(dict(data), None)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError,
            OSError, RecursionError) as exc:
        raise Unparseable(f"malformed message: {type(exc).__name__}: {exc}") from None
    chat_id = getattr(message.chat, "id", None)
    if not (is_int(message.message_id) and is_int(chat_id) and message.date is not None
            and hasattr(message.date, "astimezone")):
        raise Unparseable("message without integer message_id, chat.id or a date")
    for name in ("text", "caption"):
        if getattr(message, name) is not None and not isinstance(getattr(message, name), str):
            raise Unparseable(f"message {name} is not a string")
    return message


def start_command(message: Message) -> StartCommand | None:
    """``/start``, ``/start payload`` or ``/start@BotName payload`` in a new message."""
    text = message.text
    if not isinstance(text, str):
        return None
    command, _, payload = text.strip().partition(" ")
    if command.split("@", 1)[0].lower() != "/start":
        return None
    return StartCommand(message.chat.id, message.message_id, payload.strip())


def _content_fields(data: dict) -> set[str]:
    return {key for key, value in data.items()
            if key not in STRUCTURE and value not in (None, "", [], {})}


def _sender(message: Message) -> Address:
    user = message.from_user
    if user is not None and is_int(user.id):
        return Address(name=_text(user.full_name), address=f"telegram:{user.id}")
    chat = message.sender_chat
    if chat is not None and is_int(chat.id):  # anonymous group admin, a channel
        return Address(name=_text(chat.title or chat.username), address=f"telegram:{chat.id}")
    raise Unparseable("message without a sender (no from.id)")


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _revision(message: Message) -> str:
    edit_date = message.edit_date
    if edit_date is None or not hasattr(edit_date, "timestamp"):
        raise Unparseable("edited message without an edit_date")
    return str(int(edit_date.timestamp()))


def message_text(message: Message, data: dict, content: set[str]) -> str:
    """What the customer wrote, plus a line for content that has no text of its own."""
    parts = [_text(message.text) or _text(message.caption)]
    parts += [line for line in (_described(message, name) for name in DESCRIBED) if line]
    known = set(FILES) | set(DESCRIBED) | {"text", "caption", "photo"}
    unknown = sorted(content - known - SERVICE)
    if unknown and not any(parts):
        parts.append(f"[Telegram message of a kind this gateway cannot show: {', '.join(unknown)}]")
    return "\n".join(p for p in parts if p)


def _described(message: Message, name: str) -> str:
    value = getattr(message, name, None)
    if value is None:
        return ""
    if name == "contact":
        who = " ".join(_text(v) for v in (value.first_name, value.last_name) if _text(v))
        return f"[shared contact: {who} {_text(value.phone_number)}]".replace("  ", " ")
    if name == "location":
        return f"[location: {value.latitude}, {value.longitude}]"
    if name == "venue":
        return f"[venue: {_text(value.title)}, {_text(value.address)}]"
    if name == "sticker":
        return f"[sticker {_text(value.emoji)}]".replace(" ]", "]")
    if name == "poll":
        return f"[poll: {_text(value.question)}]"
    return f"[dice {_text(value.emoji)}: {value.value}]"


def remote_files(message: Message) -> list[RemoteFile]:
    """Every file of the message: the largest size of a photo, documents, voice, video..."""
    files = []
    if message.photo:
        largest = max(message.photo, key=_photo_rank)
        files.append(_remote(largest, f"photo-{message.message_id}.jpg", "image/jpeg"))
    for name, (stem, extension, default_type) in FILES.items():
        value = getattr(message, name, None)
        if value is not None:
            filename = _text(getattr(value, "file_name", None)) or (
                f"{stem}-{message.message_id}{extension}")
            files.append(_remote(value, filename, _text(value.mime_type) or default_type))
    return files


def _photo_rank(photo) -> tuple[int, int]:
    def number(value) -> int:
        return value if is_int(value) else 0
    return number(photo.file_size), number(photo.width) * number(photo.height)


def _remote(value, filename: str, content_type: str) -> RemoteFile:
    if not isinstance(value.file_id, str) or not value.file_id:
        raise Unparseable("a file without a file_id")
    size = value.file_size if is_int(value.file_size) and value.file_size > 0 else 0
    return RemoteFile(ref=value.file_id, filename=filename[:255], content_type=content_type,
                      size=size)


def contact_links(message: Message) -> list[str]:
    """``phone:<E.164>`` when the sender shared their *own* contact (contact.user_id = from.id)."""
    contact, user = message.contact, message.from_user
    if contact is None or user is None or contact.user_id is None or contact.user_id != user.id:
        return []
    phone = e164(contact.phone_number)
    return [f"phone:{phone}"] if phone else []


def e164(number) -> str:
    """``+<digits>`` from a phone number as Telegram sends it ("420601234567", "+1 555 ...")."""
    if not isinstance(number, str):
        return ""
    digits = PHONE_JUNK.sub("", number.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not E164_DIGITS.match(digits):
        return ""
    return digits if digits.startswith("+") else "+" + digits


def subject_of(text: str) -> str:
    """The first non-empty line, cut to ``SUBJECT_CHARS``; a fixed subject when there is none."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not line:
        return DEFAULT_SUBJECT
    return line if len(line) <= SUBJECT_CHARS else line[:SUBJECT_CHARS - 1].rstrip() + "…"
