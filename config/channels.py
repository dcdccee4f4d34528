"""Per-workspace settings of the non-SMTP channels (part of the workspace file's schema).

Secrets are never written in the file: every secret is the name of an environment variable
(``*_env``), read when it is needed. docs/configuration.md explains each key.
"""
from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from routing.schema import Strict

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def secret(env_name: str, environ=None) -> str:
    """The value of the environment variable ``env_name`` ('' when unset or no name given)."""
    if not env_name:
        return ""
    return (os.environ if environ is None else environ).get(env_name, "")


def _name(value: str) -> str:
    if not NAME.match(value):
        raise ValueError("must be letters, digits, '_' and '-' (at most 63)")
    return value


class Mailbox(Strict):
    """An IMAP mailbox polled for mail to this workspace."""
    name: str
    host: str
    port: int = Field(993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    user: str
    password_env: str = Field(description="environment variable holding the password")
    folders: tuple[str, ...] = ("INBOX",)
    post_action: Literal["none", "flag", "move", "delete"] = "none"
    move_to: str = Field("", description="folder for post_action: move")
    poll_interval_s: float = Field(60.0, gt=0)
    idle: bool = Field(True, description="use IMAP IDLE when the server supports it")

    _check_name = field_validator("name")(classmethod(lambda cls, v: _name(v)))

    @model_validator(mode="after")
    def _move_to(self) -> "Mailbox":
        if self.post_action == "move" and not self.move_to:
            raise ValueError("move_to is required when post_action is 'move'")
        return self


class Form(Strict):
    """The web contact form at /contact/<workspace>."""
    enabled: bool = True
    title: str = "Contact us"
    allowed_origins: tuple[str, ...] = Field((), description="CORS origins of the JSON endpoint")
    per_ip_per_hour: int = Field(20, ge=1)
    per_email_per_hour: int = Field(10, ge=1)
    max_attachments: int = Field(5, ge=0, le=20)
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=1)
    allowed_types: tuple[str, ...] = ("image/*", "application/pdf", "text/plain")


class Chat(Strict):
    """The chat webhook /hooks/chat/<workspace> and the widget /chat/<workspace>."""
    enabled: bool = True
    secret_env: str = Field("", description="environment variable holding the HMAC secret")
    replay_window_s: int = Field(300, ge=1)
    widget_title: str = "Chat with us"
    widget_per_ip_per_hour: int = Field(120, ge=1, description="widget messages per IP")
    callback_url: str = ""


class TelegramBot(Strict):
    """A Telegram bot; ``name`` is the <bot> of /hooks/telegram/<workspace>/<bot>."""
    name: str
    token_env: str
    secret_env: str = Field("", description="secret token Telegram sends in webhook mode")
    mode: Literal["webhook", "polling"] = "webhook"
    greeting: str = "Hello! Write your question and we will answer here."
    base_url: str = Field("https://api.telegram.org/bot", description="Bot API base URL")
    base_file_url: str = "https://api.telegram.org/file/bot"

    _check_name = field_validator("name")(classmethod(lambda cls, v: _name(v)))


class Mailgun(Strict):
    """Mailgun routes posting to /hooks/inbound/mailgun/<workspace>; signed with this key."""
    signing_key_env: str = Field(description="environment variable holding the signing key")
    # Mailgun retries a failed post for about 8 hours and resends the original signature
    # (timestamp, token) with it: a shorter window would refuse the retries after a 503.
    max_age_s: int = Field(9 * 3600, ge=1, description="oldest timestamp accepted, seconds")


class SendGrid(Strict):
    user_env: str = Field(description="basic-auth user in the Inbound Parse URL")
    password_env: str


class Postmark(Strict):
    user_env: str = Field(description="basic-auth user in the inbound webhook URL")
    password_env: str


class InboundParse(Strict):
    """Mail providers posting inbound mail to /hooks/inbound/<provider>/<workspace>."""
    mailgun: Mailgun | None = None
    sendgrid: SendGrid | None = None
    postmark: Postmark | None = None


class Conversation(Strict):
    """What a chat or Telegram message does to its conversation's resolved/closed ticket."""
    on_resolved: Literal["reopen", "new_ticket"] = "reopen"
    on_closed: Literal["reopen", "new_ticket"] = "new_ticket"


class Channels(Strict):
    mailboxes: tuple[Mailbox, ...] = ()
    form: Form = Form()
    chat: Chat = Chat()
    telegram: tuple[TelegramBot, ...] = ()
    inbound: InboundParse = InboundParse()
    conversation: Conversation = Conversation()

    def bot(self, name: str) -> TelegramBot | None:
        return next((b for b in self.telegram if b.name == name), None)

    def mailbox(self, name: str) -> Mailbox | None:
        return next((m for m in self.mailboxes if m.name == name), None)
