"""SendGrid posts each field in its mail's charset and names it in ``charsets``: honour it."""
from __future__ import annotations

import json

import pytest

from tests.inbound.convert import parse
from tests.inbound.fixtures import mailgun

CASES = [("iso-8859-1", "Crème brûlée à la façon de Zoë", "Voilà: le reçu est joint.\nMerci!"),
         ("windows-1251", "Принтер горит", "Здравствуйте,\nмой принтер горит.\nИван"),
         ("iso-2022-jp", "プリンターが燃えています", "こんにちは。\nプリンターが燃えています。")]


def sendgrid_post(charset: str, subject: str, text: str, declare: bool = True):
    headers = (b"Received: by mx.sendgrid.net\nFrom: Ivan <ivan@customer.test>\n"
               b"To: support@demo.test\nSubject: " + subject.encode(charset) + b"\n"
               b"Message-ID: <cs-" + charset.encode() + b"@customer.test>\n"
               b"Date: Mon, 5 Jan 2026 10:00:00 +0100\nMIME-Version: 1.0\n"
               b"Content-Type: text/plain; charset=" + charset.encode() + b"\n")
    charsets = {"to": "UTF-8", "from": "UTF-8", "subject": charset, "text": charset}
    fields = [("headers", headers), ("to", "support@demo.test"),
              ("from", "Ivan <ivan@customer.test>"), ("subject", subject.encode(charset)),
              ("text", text.encode(charset)), ("sender_ip", "10.0.0.1"), ("SPF", "pass"),
              ("envelope", json.dumps({"to": ["support@demo.test"],
                                       "from": "ivan@customer.test"}))]
    if declare:
        fields.append(("charsets", json.dumps(charsets)))
    return mailgun.encode(fields)


@pytest.mark.parametrize("charset,subject,text", CASES)
def test_fields_are_decoded_with_their_declared_charset(charset, subject, text):
    body, ctype = sendgrid_post(charset, subject, text)
    assert subject.encode(charset) in body  # the post really carries the foreign bytes
    event = parse(body, "sendgrid", ctype).event
    assert (event.subject, event.text) == (subject, text)
    assert event.native_id == f"cs-{charset}@customer.test"
    assert event.sender.address == "ivan@customer.test"


@pytest.mark.parametrize("charset,subject,text", CASES[:2])
def test_without_charsets_the_bytes_are_not_read_as_that_charset(charset, subject, text):
    body, ctype = sendgrid_post(charset, subject, text, declare=False)
    assert parse(body, "sendgrid", ctype).event.text != text  # what the declaration fixes


def test_unknown_charset_name_falls_back_without_failing():
    body, ctype = mailgun.encode([
        ("headers", b"From: a@customer.test\nSubject: hi\n"), ("from", "a@customer.test"),
        ("text", "plain words".encode()), ("charsets", json.dumps({"text": "x-klingon"})),
        ("envelope", json.dumps({"to": ["support@demo.test"], "from": "a@customer.test"}))])
    assert parse(body, "sendgrid", ctype).event.text == "plain words"
