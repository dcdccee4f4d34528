"""Per-workspace settings of outbound mail: the automatic acknowledgement and the webhook to an
external core (part of the workspace file's schema, under ``outbound:``).

Secrets are names of environment variables (``*_env``), as everywhere in the workspace file.
docs/outbound.md explains each key.
"""
from __future__ import annotations

from pydantic import Field, field_validator

from routing.schema import Strict

DEFAULT_LANGUAGE = "default"   # the template used when none matches the ticket's language


class Template(Strict):
    """Placeholders: ``{number}``, ``{token}`` (``[#N]``), ``{subject}``, ``{name}``,
    ``{workspace}``. ``language``: a ticket language (``de``, ``pt-br``) or ``default``."""
    language: str = DEFAULT_LANGUAGE
    subject: str = "We received your message {token}"
    text: str = ("Hello {name},\n\nthank you for writing to {workspace}. Your request has the "
                 "reference {token}; we will answer as soon as we can.\n")


class Window(Strict):
    """At most ``limit`` mails within a sliding window of ``window_s`` seconds."""
    limit: int = Field(ge=0)
    window_s: int = Field(ge=1)


class Acknowledgement(Strict):
    """The automatic answer to a customer's first message (email and form tickets only)."""
    enabled: bool = False
    templates: tuple[Template, ...] = Field((Template(),),
                                            description="one per language, plus 'default'")
    per_recipient: Window = Window(limit=3, window_s=24 * 3600)
    per_ticket: Window = Window(limit=1, window_s=24 * 3600)

    @field_validator("templates")
    @classmethod
    def _has_default(cls, value: tuple[Template, ...]) -> tuple[Template, ...]:
        if DEFAULT_LANGUAGE not in {t.language for t in value}:
            raise ValueError(f"needs a template with language '{DEFAULT_LANGUAGE}'")
        return value

    def template(self, language: str) -> Template:
        by_language = {t.language.lower(): t for t in self.templates}
        language = (language or "").lower()
        return (by_language.get(language) or by_language.get(language.split("-")[0])
                or by_language[DEFAULT_LANGUAGE])


class Webhook(Strict):
    """Every ticket change POSTed as signed JSON to an external core (the system of record)."""
    url: str = ""
    secret_env: str = Field("", description="environment variable holding the HMAC secret")
    timeout_s: float = Field(10.0, gt=0)


class Outbound(Strict):
    acknowledgement: Acknowledgement = Acknowledgement()
    webhook: Webhook = Webhook()
    max_attempts: int = Field(12, ge=1, description="delivery tries before a reply fails")
    reply_all: bool = Field(True, description="a reply Cc's the other participants of the "
                            "customer's latest mail (docs/outbound.md)")


def of(workspace) -> Outbound:
    """The workspace's outbound settings (defaults until the schema carries ``outbound``)."""
    return getattr(workspace, "outbound", None) or Outbound()
