"""Run the pure converters the way the worker does, on bodies built like the edge receives."""
from __future__ import annotations

import json

from channels import email, inbound_parse
from tests.inbound.fixtures import mailgun, postmark, sendgrid

RECEIVED_AT = "2026-01-05T10:00:00+00:00"
OWN = ("demo.test",)


def parse(raw: bytes, format_: str, content_type: str = "", **kw):
    return inbound_parse.parse(raw, format_=format_, content_type=content_type,
                               workspace="demo", account=format_.split("-")[0],
                               received_at=RECEIVED_AT, own_domains=OWN, **kw)


def by_smtp(msg):
    return email.parse(msg.as_bytes(), workspace="demo", account="smtp",
                       received_at=RECEIVED_AT, own_domains=OWN,
                       envelope_to=("support@demo.test",))


def via(variant: str, msg):
    """``msg`` as provider ``variant`` would post it, converted back to an event."""
    if variant == "mailgun":
        fields, files = mailgun.parsed_fields(msg)
        body, ctype = mailgun.encode(fields + mailgun.signature(), files)
        return parse(body, "mailgun", ctype)
    if variant == "mailgun-mime":
        body, ctype = mailgun.encode(mailgun.mime_fields(msg) + mailgun.signature())
        return parse(body, "mailgun-mime", ctype)
    if variant == "sendgrid":
        body, ctype = mailgun.encode(*sendgrid.parsed_fields(msg))
        return parse(body, "sendgrid", ctype)
    if variant == "sendgrid-raw":
        body, ctype = mailgun.encode(sendgrid.raw_fields(msg))
        return parse(body, "sendgrid-raw", ctype)
    raw_email = variant == "postmark-raw"
    return parse(json.dumps(postmark.inbound_json(msg, raw_email=raw_email)).encode(),
                 "postmark")


VARIANTS = ("mailgun", "mailgun-mime", "sendgrid", "sendgrid-raw", "postmark", "postmark-raw")
