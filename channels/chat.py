"""The chat channel: the webhook's JSON payload (schema and limits) and its adapter.

``ChatMessage`` is the one schema of ``POST /hooks/chat/<workspace>`` (docs/channels/chat.md):
the edge validates with it (400 naming each bad field) and the adapter validates again, so a
payload enqueued under older limits still never crashes a worker. ``parse`` is pure: the event,
base64 attachments inline, URL attachments as ``RemoteFile``s the worker downloads.

A chat visitor is ``chat:<visitor id>``. A visitor email is only a claim (the widget lets anyone
type any address): it becomes an unverified contact (``event.contacts``), unless the business's
signed webhook says ``visitor.email_verified: true``, which makes it a proven link
(``event.links``) to the email customer. The widget's own messages never carry that proof.
The dedupe key carries a hash of the content, so a retried delivery is one message but a reused
message id with different content is not silently dropped.
"""
from __future__ import annotations

import binascii
import json
import posixpath
import re
from datetime import datetime, timezone
from typing import Annotated
from urllib.parse import unquote, urlsplit

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      StringConstraints, ValidationError, field_validator, model_validator)

from channels.common import Parsed, RemoteFile, Unparseable, content_hash, inline_attachment
from channels.event import Address, ThreadHints, TicketEvent

MAX_TEXT_CHARS = 20_000
MAX_ATTACHMENTS = 10
MAX_INLINE_BYTES = 5 * 1024 * 1024   # one base64 attachment, decoded
MAX_BODY_BYTES = 16 * 1024 * 1024    # the whole request body (the edge answers 413 above)
MAX_BASE64_CHARS = (MAX_INLINE_BYTES + 2) // 3 * 4
SUBJECT_CHARS = 80
DEFAULT_SUBJECT = "Chat conversation"
ACCOUNT = "widget"  # the channel account of every chat message of a workspace
CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _id_text(value):
    """Ids may be strings or integers (many chat systems number them); never booleans."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


Id = Annotated[str, BeforeValidator(_id_text),
               StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_not_blank)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Visitor(Payload):
    id: Id
    name: Short = ""
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] = ""
    email_verified: bool = False  # the business's server vouches that the visitor owns it

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not EMAIL.match(value):
            raise ValueError("must be an email address like name@example.com")
        return value.lower()


class ChatAttachment(Payload):
    """Either ``url`` (http/https, downloaded by a worker) or ``content_base64`` (inline)."""
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    content_base64: str = ""
    filename: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] = ""
    content_type: Annotated[str, StringConstraints(strip_whitespace=True,
                                                   max_length=100)] = "application/octet-stream"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and (urlsplit(value).scheme.lower() not in ("http", "https")
                      or not urlsplit(value).hostname):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("content_base64")
    @classmethod
    def _base64(cls, value: str) -> str:
        if not value:
            return value
        too_big = ValueError(f"is larger than {MAX_INLINE_BYTES // (1024 * 1024)} MiB decoded; "
                             "send a url instead")
        if len(value) > MAX_BASE64_CHARS:
            raise too_big
        try:
            size = len(binascii.a2b_base64(value.encode("ascii"), strict_mode=True))
        except (ValueError, UnicodeEncodeError):
            raise ValueError("must be standard base64 (A-Z a-z 0-9 + /, = padding)") from None
        if size > MAX_INLINE_BYTES:
            raise too_big
        return value

    @field_validator("content_type")
    @classmethod
    def _content_type(cls, value: str) -> str:
        if not CONTENT_TYPE.match(value):
            raise ValueError("must be a media type like image/png")
        return value.lower()

    @model_validator(mode="after")
    def _one_source(self) -> "ChatAttachment":
        if bool(self.url) == bool(self.content_base64):
            raise ValueError("give exactly one of url and content_base64")
        return self

    def data(self) -> bytes:
        return binascii.a2b_base64(self.content_base64.encode("ascii"))

    def name(self) -> str:
        """A safe file name: the given one, else the URL's last path segment, no directories."""
        name = self.filename or unquote(posixpath.basename(urlsplit(self.url).path))
        name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
        return name[:255] or "attachment"


class ChatMessage(Payload):
    conversation_id: Id
    message_id: Id
    visitor: Visitor
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)] = ""
    attachments: list[ChatAttachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    sent_at: str = ""

    @field_validator("sent_at")
    @classmethod
    def _sent_at(cls, value: str) -> str:
        return utc_iso(value) if value.strip() else ""

    @model_validator(mode="after")
    def _content(self) -> "ChatMessage":
        if not self.text.strip() and not self.attachments:
            raise ValueError("a message needs text or at least one attachment")
        return self


def utc_iso(value: str) -> str:
    """ISO 8601 in, UTC ISO 8601 out (a time without zone is taken as UTC)."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 time like 2024-05-01T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc).isoformat()
    except OverflowError:
        raise ValueError("is out of range") from None


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors as ``{"visitor.id": "Field required", ...}`` (first error per field)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "text"  # the text-or-file rule
        message = error["msg"].removeprefix("Value error, ")
        fields.setdefault(where, message)
    return fields


def validate(data) -> ChatMessage:
    """The payload as a ``ChatMessage``; raises ``ValidationError``."""
    return ChatMessage.model_validate(data)


def parse(raw: bytes, *, workspace: str, account: str, received_at: str,
          raw_ref: str, from_widget: bool = False) -> Parsed:
    """``from_widget``: the payload was built by our widget from what a visitor typed, so its
    ``email_verified`` is ignored whatever it says."""
    try:
        message = validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:  # JSONDecodeError, UnicodeDecodeError too
        raise Unparseable(f"not a valid chat message: {exc}") from None
    digest = message_hash(message)
    text = message.text
    event = TicketEvent(
        workspace=workspace, channel="chat", account=account, native_id=message.message_id,
        dedupe_key=f"chat:{message.conversation_id}:{message.message_id}:{digest[:16]}",
        received_at=received_at, sent_at=message.sent_at or received_at,
        sender=Address(message.visitor.name, f"chat:{message.visitor.id}"),
        subject=subject_of(text), text=text, reply_text=text,
        thread=ThreadHints(conversation_id=message.conversation_id), raw_ref=raw_ref,
        content_hash=digest)
    if message.visitor.email:
        proven = message.visitor.email_verified and not from_widget
        (event.links if proven else event.contacts).append(f"email:{message.visitor.email}")
    parsed = Parsed(event=event)
    for attachment in message.attachments:
        if attachment.content_base64:
            inline_attachment(parsed, attachment.data(), attachment.name(),
                              attachment.content_type)
        else:
            parsed.remote_files.append(RemoteFile(ref=attachment.url, filename=attachment.name(),
                                                  content_type=attachment.content_type))
    return parsed


def message_hash(message: ChatMessage) -> str:
    """What the visitor wrote: text and attachments (their URL or their bytes' base64)."""
    parts = [message.text]
    for a in message.attachments:
        parts += [a.url or a.content_base64, a.filename, a.content_type]
    return content_hash(*parts)


def subject_of(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return DEFAULT_SUBJECT
    return first if len(first) <= SUBJECT_CHARS else first[:SUBJECT_CHARS - 1].rstrip() + "…"
