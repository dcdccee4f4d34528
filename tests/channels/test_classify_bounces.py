"""channels.mail.classify: bounces from RFC 3464 delivery reports and from MTA prose."""
from __future__ import annotations

from channels.mail.classify import classify
from tests.channels.mailfactory import OWN, ORIGINAL_MESSAGE, customer, mail, parse


DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: support@demo.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example.net.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; slow@example.org
Action: delayed
Status: 4.4.1

Final-Recipient: rfc822; Gone@Example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B
{original}
--B--
"""


ORIGINAL_HEADERS = """\
Content-Type: text/rfc822-headers

From: Support <support@demo.test>
To: gone@example.com
Message-ID: <tg.43.def@demo.test>
"""


# --- bounce: RFC 3464 delivery reports ---------------------------------------------------------

def test_dsn_is_bounce_with_first_failed_recipient_and_status():
    found = classify(parse(DSN.format(original=ORIGINAL_MESSAGE)), OWN)
    assert (found.kind, found.bounced_recipient, found.bounce_status) == \
        ("bounce", "gone@example.com", "5.1.1")


def test_dsn_reason_names_the_rule():
    found = classify(parse(DSN.format(original=ORIGINAL_MESSAGE)), OWN)
    assert found.reason.startswith("delivery_report: failed gone@example.com")


def test_bounce_of_our_own_mail_is_bounce_not_own_loop_with_original_id():
    found = classify(parse(DSN.format(original=ORIGINAL_MESSAGE)), OWN)
    assert (found.kind, found.original_message_id) == ("bounce", "tg.42.abc@demo.test")


def test_dsn_original_id_from_rfc822_headers_part():
    found = classify(parse(DSN.format(original=ORIGINAL_HEADERS)), OWN)
    assert found.original_message_id == "tg.43.def@demo.test"


def test_delay_report_is_bounce_with_4xx_status():
    raw = DSN.format(original=ORIGINAL_MESSAGE).replace(
        "Action: failed\nStatus: 5.1.1", "Action: delayed\nStatus: 4.4.7")
    found = classify(parse(raw), OWN)
    assert (found.kind, found.bounced_recipient, found.bounce_status) == \
        ("bounce", "slow@example.org", "4.4.1")


def test_dsn_without_status_gets_status_from_action():
    raw = DSN.format(original=ORIGINAL_MESSAGE).replace("Status: 5.1.1\n", "").replace(
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n", "")
    assert classify(parse(raw), OWN).bounce_status == "5.0.0"


def test_dsn_from_an_ordinary_sender_is_still_a_bounce():
    raw = DSN.format(original=ORIGINAL_MESSAGE).replace(
        "Mail Delivery System <MAILER-DAEMON@mx.example.net>", "Relay <relay@example.net>")
    assert classify(parse(raw), OWN).kind == "bounce"


def test_dsn_whose_boundary_never_matches_is_still_a_bounce():
    raw = DSN.format(original=ORIGINAL_MESSAGE).replace('boundary="B"', 'boundary="X"')
    found = classify(parse(raw), OWN)
    assert (found.kind, found.bounced_recipient) == ("bounce", "gone@example.com")


# --- bounce: prose from MTAs -------------------------------------------------------------------

QMAIL = """\
From: MAILER-DAEMON@mx.example.net
To: support@demo.test
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<gone@example.com>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

From: support@demo.test
To: gone@example.com
Message-ID: <tg.7.xyz@demo.test>
Subject: Re: [#7] Refund

Hello
"""


def test_qmail_bounce_gives_recipient():
    assert classify(parse(QMAIL), OWN).bounced_recipient == "gone@example.com"


def test_qmail_bounce_gives_status():
    assert classify(parse(QMAIL), OWN).bounce_status == "5.1.1"


def test_prose_bounce_takes_original_id_from_quoted_headers():
    assert classify(parse(QMAIL), OWN).original_message_id == "tg.7.xyz@demo.test"


def test_prose_bounce_reason_names_the_rule_and_sender():
    assert classify(parse(QMAIL), OWN).reason.startswith(
        "daemon_bounce: From MAILER-DAEMON@mx.example.net")


def test_postfix_plain_bounce_gives_recipient_and_status():
    body = ("This is the mail system at host mx.example.net.\n\n"
            "<gone@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1\n"
            "    <gone@example.com>: Recipient address rejected: User unknown\n")
    found = classify(mail("From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
                          "To: support@demo.test\nSubject: Undelivered Mail Returned to Sender\n",
                          body), OWN)
    assert (found.bounced_recipient, found.bounce_status) == ("gone@example.com", "5.1.1")


def test_exim_bounce_prefers_x_failed_recipients():
    body = ("This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            "  gone@example.com\n    retry timeout exceeded\n")
    found = classify(mail("From: Mail Delivery System <Mailer-Daemon@mx.example.net>\n"
                          "To: support@demo.test\nSubject: Mail delivery failed\n"
                          "X-Failed-Recipients: other@example.com\n", body), OWN)
    assert found.bounced_recipient == "other@example.com"


def test_prose_bounce_without_code_gets_status_from_wording():
    body = ("A message that you sent could not be delivered. This is a permanent error.\n\n"
            "  gone@example.com\n")
    found = classify(mail("From: Mail Delivery System <Mailer-Daemon@mx.example.net>\n"
                          "To: support@demo.test\nSubject: Mail delivery failed\n", body), OWN)
    assert found.bounce_status == "5.0.0"


def test_exchange_undeliverable_from_postmaster_is_bounce():
    body = ("Your message did not reach some or all of the intended recipients.\n\n"
            "      gone@example.com on 4/29/2024 11:34 PM\n"
            "            The e-mail account does not exist at the organization.\n")
    found = classify(mail("From: System Administrator <postmaster@example.com>\n"
                          "To: support@demo.test\nSubject: Undeliverable: Re: [#7] Refund\n",
                          body), OWN)
    assert (found.kind, found.bounced_recipient) == ("bounce", "gone@example.com")


def test_domino_bounce_gives_recipient():
    body = "User Gone Person (gone@example.com) not listed in Domino Directory\n"
    found = classify(mail("From: Postmaster@example.com\nTo: support@demo.test\n"
                          "Subject: DELIVERY FAILURE: User Gone not listed\n", body), OWN)
    assert found.bounced_recipient == "gone@example.com"


def test_null_sender_with_bounce_subject_is_bounce():
    found = customer("Return-Path: <>\n", subject="Undeliverable: Re: [#7] Refund")
    assert found.kind == "bounce"


def test_no_reply_notice_with_returned_message_is_bounce():
    raw = ("From: no-reply@mail.example.jp\nTo: support@demo.test\nSubject: Mail\n"
           "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
           "--B\nContent-Type: text/plain\n\n"
           "Could not be delivered to: <gone@example.jp>\nAs their mailbox is full.\n"
           "--B\n" + ORIGINAL_MESSAGE.replace("gone@example.com", "gone@example.jp") + "--B--\n")
    found = classify(parse(raw), OWN)
    assert (found.kind, found.bounced_recipient) == ("bounce", "gone@example.jp")
