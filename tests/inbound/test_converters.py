"""The pure converters: every provider variant of a mail becomes the event SMTP would give."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest

from channels import inbound_parse
from channels.common import Unparseable
from tests.inbound.convert import VARIANTS, by_smtp, parse, via
from tests.inbound.fixtures import mailgun, postmark
from tests.inbound.fixtures.mail import File, customer_mail

PDF = File("invoice.pdf", "application/pdf", b"%PDF-1.4\n" + bytes(range(256)) * 20)
LOGO = File("logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "logo@customer.test")


def rich_mail(**kw):
    return customer_mail(html="<p>Hello,<br>my printer is <b>on fire</b>.</p>",
                         files=(PDF, LOGO), **kw)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_gives_the_smtp_event(variant):
    msg = rich_mail(in_reply_to="<earlier@demo.test>")
    expected, got = by_smtp(msg).event, via(variant, msg).event
    assert got.dedupe_key == expected.dedupe_key
    assert got.native_id == expected.native_id == msg["Message-ID"].strip("<>")
    assert (got.sender, got.subject, got.text, got.reply_text) == \
        (expected.sender, expected.subject, expected.text, expected.reply_text)
    assert got.html == expected.html and "on fire" in got.html
    assert got.thread.in_reply_to == got.thread.references == ["earlier@demo.test"]
    assert got.sent_at == expected.sent_at != ""
    assert [(a.filename, a.content_type, a.size, a.sha256) for a in got.attachments] == \
        [(a.filename, a.content_type, a.size, a.sha256) for a in expected.attachments]


@pytest.mark.parametrize("variant", VARIANTS)
def test_attachments_come_back_as_blobs_by_sha256(variant):
    parsed = via(variant, rich_mail())
    assert {hashlib.sha256(PDF.data).hexdigest(), hashlib.sha256(LOGO.data).hexdigest()} == \
        set(parsed.blobs)
    assert all(hashlib.sha256(data).hexdigest() == sha for sha, data in parsed.blobs.items())


@pytest.mark.parametrize("variant", ["mailgun", "sendgrid", "postmark"])
def test_inline_image_keeps_its_content_id(variant):
    [logo] = [a for a in via(variant, rich_mail()).event.attachments if a.filename == "logo.png"]
    assert logo.content_id == "logo@customer.test" and logo.inline


def test_mailgun_documented_example():
    body, ctype = mailgun.encode(mailgun.DOC_EXAMPLE + mailgun.signature(),
                                 mailgun.DOC_EXAMPLE_FILES)
    event = parse(body, "mailgun", ctype).event
    assert event.sender.address == "bob@sandbox.mailgun.org"
    assert event.native_id == "517ACC75.5010709@mailgun.net"
    assert event.thread.in_reply_to == ["517AC78B.5060404@mailgun.net"]
    assert event.sent_at == "2013-04-26T18:50:29+00:00"
    assert event.reply_text.strip().startswith("Hi Alice,\n\nThis is Bob.")
    assert "Alice wrote" not in event.reply_text
    assert [a.filename for a in event.attachments] == ["crabby.gif"]


def test_mailgun_without_message_headers_falls_back_to_top_level_fields():
    fields = [("recipient", "support@demo.test"), ("sender", "a@customer.test"),
              ("from", "A <a@customer.test>"), ("subject", "Need help"),
              ("body-plain", "It broke."), ("Message-Id", "<m1@customer.test>"),
              ("In-Reply-To", "<m0@demo.test>")]
    body, ctype = mailgun.encode(fields)
    event = parse(body, "mailgun", ctype).event
    assert (event.sender.address, event.subject, event.text) == \
        ("a@customer.test", "Need help", "It broke.")
    assert event.native_id == "m1@customer.test"
    assert event.thread.in_reply_to == ["m0@demo.test"]
    assert [a.address for a in event.to] == ["support@demo.test"]


def test_reply_token_comes_from_the_provider_envelope():
    msg = customer_mail(to="Support <support@demo.test>")
    fields, files = mailgun.parsed_fields(msg, recipient="support+T0KEN@demo.test")
    body, ctype = mailgun.encode(fields, files)
    assert parse(body, "mailgun", ctype).event.thread.reply_token == "T0KEN"


def test_postmark_prefers_raw_email():
    msg = customer_mail(body="The original body.")
    data = postmark.inbound_json(msg, raw_email=True)
    data["TextBody"], data["Subject"] = "Postmark's copy", "Other subject"
    event = parse(json.dumps(data).encode(), "postmark").event
    assert (event.text, event.subject) == ("The original body.", "Printer on fire")


def test_postmark_uses_the_message_id_header_not_postmarks_id():
    msg = customer_mail()
    data = postmark.inbound_json(msg)
    event = parse(json.dumps(data).encode(), "postmark").event
    assert event.native_id == msg["Message-ID"].strip("<>") != data["MessageID"]


def test_postmark_bad_base64_still_keeps_the_mail():
    data = postmark.inbound_json(customer_mail())
    data["Attachments"] = [{"Name": "x.bin", "Content": "@@not base64!!", "ContentType": "x"}]
    event = parse(json.dumps(data).encode(), "postmark").event
    assert event.text.startswith("Hello")
    assert [a.content_type for a in event.attachments] == ["application/octet-stream"]


def test_attached_mail_stays_message_rfc822():
    inner = customer_mail(subject="Forwarded original").as_bytes()
    data = postmark.inbound_json(customer_mail())
    data["Attachments"] = [{"Name": "original.eml", "ContentType": "message/rfc822",
                            "Content": base64.b64encode(inner).decode()}]
    [attached] = parse(json.dumps(data).encode(), "postmark").event.attachments
    assert (attached.content_type, attached.filename) == ("message/rfc822", "original.eml")


@pytest.mark.parametrize("raw,format_,ctype", [
    (b"{}", "postmark", ""),
    (b"[]", "postmark", ""),
    (b"not json", "postmark", ""),
    (b"", "mailgun", "multipart/form-data; boundary=x"),
    (b"a=b", "sendgrid", "text/plain"),
    (b"x", "mandrill", ""),
    (b"body-mime=", "mailgun-mime", "application/x-www-form-urlencoded"),
    (b"email=", "sendgrid-raw", "application/x-www-form-urlencoded"),
])
def test_junk_is_unparseable(raw, format_, ctype):
    with pytest.raises(Unparseable):
        parse(raw, format_, ctype)


def test_postmark_lone_surrogates_in_json_strings_are_survived():
    data = {"FromFull": {"Email": "a@customer.test", "Name": "\ud800"}, "Subject": "x\udfff",
            "TextBody": "body \ud83d", "Attachments": [{"Name": "\udc80.txt", "Content": "aGk=",
                                                       "ContentID": "\ud800"}]}
    event = parse(json.dumps(data).encode(), "postmark").event
    assert event.sender.address == "a@customer.test" and event.text.startswith("body")
    raw_only = {"RawEmail": "From: a@customer.test\nSubject: \ud800\n\nhi"}
    assert parse(json.dumps(raw_only).encode(), "postmark").event.text == "hi"


def test_line_breaks_in_header_values_cannot_inject_headers():
    fields = [("recipient", "support@demo.test"), ("from", "a@customer.test"),
              ("message-headers", json.dumps([
                  ["From", "a@customer.test"], ["Subject", "hi\r\nBcc: victim@else.test"],
                  ["Content-Type", "text/html"], ["Bad Name", "x"], ["X-Ok", "fine\nline"]])),
              ("body-plain", "plain text, not html")]
    body, ctype = mailgun.encode(fields)
    mime = inbound_parse.to_mime(inbound_parse.read("mailgun", body, ctype))
    head = mime.split(b"\r\n\r\n", 1)[0]
    assert b"Subject: hi Bcc: victim@else.test\r\n" in head and b"\nBcc:" not in head
    assert b"X-Ok: fine line" in head and b"Bad Name" not in head
    assert b"text/html" not in head  # the provider's structure headers never describe our body
    assert parse(body, "mailgun", ctype).event.text == "plain text, not html"
