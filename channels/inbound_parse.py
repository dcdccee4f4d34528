"""Mail posted by a provider's inbound-parse webhook -> RFC 5322 bytes -> the email event.

The edge queues the provider's request exactly as received (``meta.format`` names the provider
and variant, ``meta.content_type`` keeps the multipart boundary). Here it is turned back into
the mail it describes: the raw variants carry the MIME itself, the parsed ones are rebuilt
(``channels.inbound.mime_builder``). The result goes through ``channels.email.parse`` with the
same arguments as SMTP mail, so dedupe keys, reply trimming, classification and thread hints
are identical: the same mail delivered by SMTP and by a webhook is one message.
Pure: no I/O.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from channels import email
from channels.common import Parsed, Unparseable
from channels.inbound import mailgun, postmark, sendgrid
from channels.inbound.form import FormData, read_form

PROVIDERS = ("mailgun", "sendgrid", "postmark")
FORMATS = ("mailgun", "mailgun-mime", "sendgrid", "sendgrid-raw", "postmark")


@dataclass(frozen=True)
class Payload:
    """A provider's post, read: its format, the form or JSON object, the SMTP envelope."""
    format: str
    body: FormData | dict
    rcpt_to: tuple[str, ...] = ()
    mail_from: str = ""


def read(provider: str, raw: bytes, content_type: str) -> Payload:
    """Read a provider's request body; ``Unparseable`` when it is not a readable post."""
    if provider == "postmark":
        data = _json_object(raw)
        rcpt_to, mail_from = postmark.envelope(data)
        return Payload("postmark", data, tuple(rcpt_to), mail_from)
    form = read_form(raw, content_type)
    if provider == "mailgun":
        rcpt_to, mail_from = mailgun.envelope(form)
        return Payload("mailgun-mime" if mailgun.is_mime(form) else "mailgun", form,
                       tuple(rcpt_to), mail_from)
    if provider == "sendgrid":
        rcpt_to, mail_from = sendgrid.envelope(form)
        return Payload("sendgrid-raw" if sendgrid.is_raw(form) else "sendgrid", form,
                       tuple(rcpt_to), mail_from)
    raise Unparseable(f"unknown inbound-parse provider {provider!r}")


def problems(payload: Payload) -> dict[str, str]:
    """Field -> problem for a post that is obviously not the provider's; empty when fine."""
    module = {"mailgun": mailgun, "mailgun-mime": mailgun, "sendgrid": sendgrid,
              "sendgrid-raw": sendgrid, "postmark": postmark}[payload.format]
    return module.problems(payload.body)


def to_mime(payload: Payload) -> bytes:
    """The RFC 5322 bytes of the mail the post describes."""
    if payload.format.startswith("mailgun"):
        return mailgun.to_mime(payload.body)
    if payload.format.startswith("sendgrid"):
        return sendgrid.to_mime(payload.body)
    return postmark.to_mime(payload.body)


def provider_of(format_: str) -> str:
    """The provider of a queued post's ``meta.format`` ("sendgrid-raw" -> "sendgrid")."""
    if format_ not in FORMATS:
        raise Unparseable(f"unknown inbound-parse format {format_!r}")
    return format_.split("-", 1)[0]


def parse(raw: bytes, *, format_: str, content_type: str, workspace: str, account: str,
          received_at: str, raw_ref: str = "", own_domains: tuple[str, ...] = (),
          envelope_to: tuple[str, ...] = (), envelope_from: str = "",
          subject_prefix: str = "") -> Parsed:
    """A queued provider request -> the email event (``Unparseable`` for junk)."""
    payload = read(provider_of(format_), raw, content_type)
    mime = to_mime(payload)
    return email.parse(mime, workspace=workspace, account=account, received_at=received_at,
                       raw_ref=raw_ref, own_domains=own_domains,
                       envelope_to=tuple(envelope_to or payload.rcpt_to),
                       envelope_from=envelope_from or payload.mail_from,
                       subject_prefix=subject_prefix)


def _json_object(raw: bytes) -> dict:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise Unparseable(f"not valid JSON: {type(exc).__name__}: {exc}") from None
    if not isinstance(data, dict):
        raise Unparseable("the JSON body is not an object")
    return data
