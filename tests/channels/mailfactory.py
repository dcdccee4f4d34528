"""Builders shared by the channel tests: classify inputs, email adapter events, corpus paths."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

from channels import email
from channels.event import Classification, TicketEvent
from channels.mail.classify import classify

# The real-world corpora live outside the project (see their README); their tests skip without it.
CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
FIXTURES = Path(__file__).parent / "fixtures" / "email"

# --- classify: email.message objects -----------------------------------------------------------

OWN = ("demo.test",)
CUSTOMER = """\
From: Alice Example <alice@customer.test>
To: support@demo.test
Subject: Help with my order
Message-ID: <CAF123@mail.customer.test>
Date: Mon, 6 May 2024 10:00:00 +0200
"""
BODY = "Hello,\n\nmy order #1234 has not arrived yet. Can you check?\n\nAlice\n"
# A copy of our own outgoing mail, as bounces and complaints attach it.
ORIGINAL_MESSAGE = """\
Content-Type: message/rfc822

From: Support <support@demo.test>
To: gone@example.com
Subject: Re: [#42] Your order
Message-ID: <tg.42.abc@demo.test>
X-Ticketgate-Loop: demo

Hello
"""


def parse(raw: str | bytes):
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return BytesParser(policy=policy.default).parsebytes(data)


def mail(headers: str = CUSTOMER, body: str = BODY, extra: str = ""):
    """A message from ``headers`` (plus ``extra`` header lines) and ``body``."""
    return parse(headers + extra + "\n" + body)


def customer(extra: str = "", body: str = BODY, subject: str = "") -> Classification:
    headers = CUSTOMER.replace("Help with my order", subject) if subject else CUSTOMER
    return classify(mail(headers, body, extra), OWN)


# --- the email adapter: raw bytes to TicketEvent -----------------------------------------------

def parse_email(raw: bytes, **options) -> email.ParsedEmail:
    options = {"workspace": "acme", "account": "support@acme.test",
               "received_at": "2024-01-01T00:00:00+00:00", **options}
    return email.parse(raw, **options)


def email_event(raw: bytes, **options) -> TicketEvent:
    return parse_email(raw, **options).event


def fixture_event(name: str, **options) -> TicketEvent:
    return email_event((FIXTURES / name).read_bytes(), **options)


def raw_mail(headers: str = "", body: str = "Hello.",
             sender: str = "Ann <ann@example.com>") -> bytes:
    return f"From: {sender}\nTo: support@acme.test\n{headers}\n{body}\n".encode("utf-8")


# --- reply trimming ----------------------------------------------------------------------------

REPLY = "Thanks, that fixed it."
