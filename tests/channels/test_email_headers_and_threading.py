"""The email adapter's event fields from headers: ids, addresses, dates, and thread hints."""
from __future__ import annotations

import json

from channels import email
from channels.event import Classification, TicketEvent
from channels.mail.quotes import extract_reply
from tests.channels.mailfactory import email_event, fixture_event, raw_mail


# --- the event ------------------------------------------------------------------------------


def test_event_carries_channel_workspace_account_and_passthrough_fields():
    event = email_event(raw_mail(), raw_ref="blob-1")
    assert (event.channel, event.workspace, event.account, event.received_at, event.raw_ref) == (
        "email", "acme", "support@acme.test", "2024-01-01T00:00:00+00:00", "blob-1")


def test_native_id_is_the_message_id_without_brackets():
    assert email_event(raw_mail("Message-ID: <abc@example.com>\n")).native_id == "abc@example.com"


def test_dedupe_key_combines_message_id_and_content_hash():
    event = email_event(raw_mail("Message-ID: <abc@example.com>\n"))
    assert event.dedupe_key == f"mid:abc@example.com:{event.content_hash[:16]}"


def test_missing_message_id_dedupes_by_content_hash():
    event = fixture_event("missing-message-id.eml")
    assert event.native_id == "" and event.dedupe_key == f"hash:{event.content_hash}"


def test_reused_message_id_with_different_content_gets_another_dedupe_key():
    first = email_event(raw_mail("Message-ID: <same@example.com>\n", body="One."))
    second = email_event(raw_mail("Message-ID: <same@example.com>\n", body="Two."))
    assert first.dedupe_key != second.dedupe_key


def test_same_mail_delivered_by_two_paths_has_the_same_content_hash():
    direct = ("From: Ann <ann@example.com>\r\nTo: support@acme.test\r\nSubject: Broken printer\r\n"
              "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
              "Grüße,\r\nit smokes.  \r\n").encode("utf-8")
    relayed = (b"Received: from relay.example.net\nX-Relay: yes\nFrom: Ann <ANN@example.com>\n"
               b"To: support@acme.test\nSubject: =?utf-8?q?Broken?=\n printer\n"
               b"Content-Type: text/plain; charset=utf-8\n"
               b"Content-Transfer-Encoding: quoted-printable\n\nGr=C3=BC=C3=9Fe,\nit smokes.\n")
    assert email_event(direct).content_hash == email_event(relayed).content_hash


def test_sender_address_is_lowercased_and_name_kept():
    sender = email_event(raw_mail(sender="Ann Smith <Ann.Smith@Example.COM>")).sender
    assert (sender.name, sender.address) == ("Ann Smith", "ann.smith@example.com")


def test_sender_falls_back_to_the_sender_header():
    raw = b"Sender: bot@example.com\nTo: support@acme.test\n\nHi"
    assert email_event(raw).sender.address == "bot@example.com"


def test_sender_falls_back_to_return_path():
    raw = b"Return-Path: <bounce@example.com>\nTo: support@acme.test\n\nHi"
    assert email_event(raw).sender.address == "bounce@example.com"


def test_sender_falls_back_to_the_envelope():
    raw = b"From: undisclosed\nTo: support@acme.test\n\nHi"
    assert email_event(raw, envelope_from="<env@example.com>").sender.address == "env@example.com"


def test_recipients_and_reply_to_are_address_lists():
    event = email_event(raw_mail("Cc: \"Doe, John\" <J@x.test>, k@y.test\nReply-To: r@z.test\n"))
    assert [a.address for a in event.cc] == ["j@x.test", "k@y.test"]
    assert event.cc[0].name == "Doe, John" and event.reply_to[0].address == "r@z.test"


def test_junk_in_address_headers_is_skipped():
    event = email_event(
        raw_mail("Cc: ,,, <>; undisclosed-recipients:; ok@example.com, \"unterminated\n"))
    assert "ok@example.com" in [a.address for a in event.cc]


def test_subject_is_decoded():
    assert fixture_event("gb2312.eml").subject == "回复：订单问题"


def test_sent_at_is_iso_8601_utc():
    event = email_event(raw_mail("Date: Wed, 03 Jan 2024 09:30:00 -0500\n"))
    assert event.sent_at == "2024-01-03T14:30:00+00:00"


def test_unparseable_date_gives_empty_sent_at():
    assert email_event(raw_mail("Date: the day after tomorrow\n")).sent_at == ""


def test_reply_text_is_extract_reply_of_the_text():
    event = fixture_event("html-only.eml")
    assert event.reply_text == extract_reply(event.text)


def test_classification_comes_from_classify_with_own_domains(monkeypatch):
    seen = {}

    def fake_classify(message, own_domains=()):
        seen["own_domains"] = own_domains
        return Classification(kind="auto_reply", reason="test")

    monkeypatch.setattr(email, "classify", fake_classify)
    event = email_event(raw_mail(), own_domains=("acme.test",))
    assert event.classification.kind == "auto_reply" and seen["own_domains"] == ("acme.test",)


def test_event_survives_json_round_trip():
    event = fixture_event("rfc2231-filenames.eml")
    assert TicketEvent.from_dict(json.loads(json.dumps(event.to_dict()))) == event


# --- thread hints ---------------------------------------------------------------------------


def test_in_reply_to_and_references_lose_their_brackets():
    thread = fixture_event("html-only.eml").thread
    assert thread.in_reply_to == ["out-42@acme.test"]
    assert thread.references == ["root@acme.test", "out-42@acme.test"]


def test_references_tolerate_junk_and_duplicates():
    raw = raw_mail("References: <a@x> junk (comment) <b@x>\n <a@x>, <b@x>\n")
    assert email_event(raw).thread.references == ["a@x", "b@x"]


def test_references_are_capped_keeping_the_root_and_the_latest():
    ids = " ".join(f"<m{i}@x>" for i in range(email.MAX_REFERENCES + 50))
    refs = email_event(raw_mail(f"References: {ids}\n")).thread.references
    assert len(refs) == email.MAX_REFERENCES and refs[0] == "m0@x"
    assert refs[-1] == f"m{email.MAX_REFERENCES + 49}@x"


def test_in_reply_to_without_brackets_is_still_read():
    assert email_event(raw_mail("In-Reply-To: abc@example.com\n")).thread.in_reply_to == [
        "abc@example.com"]


def test_subject_number_comes_from_the_ticket_token():
    assert fixture_event("html-only.eml").thread.subject_number == 42


def test_subject_number_uses_the_workspace_prefix():
    event = email_event(raw_mail("Subject: Re: [ACME#7] x\n"), subject_prefix="ACME")
    assert event.thread.subject_number == 7


def test_reply_token_comes_from_an_own_recipient():
    raw = b"From: a@example.com\nTo: Support <support+Tk3n.Sig@acme.test>\n\nHi"
    assert email_event(raw, own_domains=("acme.test",)).thread.reply_token == "Tk3n.Sig"


def test_reply_token_comes_from_the_envelope_first():
    event = email_event(raw_mail(), envelope_to=("support+env1@acme.test",),
                        own_domains=("acme.test",))
    assert event.thread.reply_token == "env1"


def test_reply_token_ignores_plus_addresses_of_other_domains():
    raw = b"From: a@example.com\nTo: support@acme.test\nCc: ann+shop@gmail.test\n\nHi"
    assert email_event(raw, own_domains=("acme.test",)).thread.reply_token == ""


def test_body_marker_found_in_text():
    assert email_event(raw_mail(body="Thanks!\n> [tg:T0k.en]")).thread.body_marker == "T0k.en"


def test_body_marker_found_with_zero_width_characters():
    body = "Thanks!\n[\u200btg:\u200cT0ken\u200b]"
    assert email_event(raw_mail(body=body)).thread.body_marker == "T0ken"


def test_body_marker_found_in_an_html_comment():
    assert fixture_event("html-only.eml").thread.body_marker == "AbC123.sig"
