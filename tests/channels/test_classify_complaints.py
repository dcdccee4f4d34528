"""channels.mail.classify: abuse complaints (ARF, Hotmail, SES) and SES bounce notifications."""
from __future__ import annotations

from channels.mail.classify import classify
from tests.channels.mailfactory import OWN, ORIGINAL_MESSAGE, mail, parse


# --- complaint ---------------------------------------------------------------------------------

ARF = """\
From: abuse@isp.example
To: support@demo.test
Subject: FW: Re: [#42] Your order
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="A"

--A
Content-Type: text/plain

This is an email abuse report.
--A
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Rcpt-To: <complainer@isp.example>

--A
""" + ORIGINAL_MESSAGE + "--A--\n"


def test_arf_report_is_complaint_with_recipient():
    found = classify(parse(ARF), OWN)
    assert (found.kind, found.bounced_recipient) == ("complaint", "complainer@isp.example")


def test_arf_report_gives_original_message_id():
    assert classify(parse(ARF), OWN).original_message_id == "tg.42.abc@demo.test"


def test_arf_without_rcpt_to_takes_the_original_recipient():
    raw = ARF.replace("Original-Rcpt-To: <complainer@isp.example>\n", "")
    assert classify(parse(raw), OWN).bounced_recipient == "gone@example.com"


def test_hotmail_junk_mail_report_is_complaint():
    raw = ("From: staff@hotmail.com\nTo: support@demo.test\n"
           "Subject: complaint about message from 192.0.2.1\n"
           "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
           "--B\nContent-Type: message/rfc822\n\n"
           "X-HmXmrOriginalRecipient: complainer@hotmail.com\n"
           "From: support@demo.test\nTo: complainer@hotmail.com\n"
           "Message-ID: <tg.9@demo.test>\n\nHello\n--B--\n")
    found = classify(parse(raw), OWN)
    assert (found.kind, found.bounced_recipient) == ("complaint", "complainer@hotmail.com")


def test_ses_complaint_notification_is_complaint():
    body = ('{"notificationType":"Complaint","complaint":{"complainedRecipients":'
            '[{"emailAddress":"complainer@example.com"}]}}\n')
    found = classify(mail("From: SES <no-reply@sns.amazonaws.com>\nTo: support@demo.test\n"
                          "Subject: AWS Notification Message\n", body), OWN)
    assert (found.kind, found.bounced_recipient) == ("complaint", "complainer@example.com")


def test_ses_bounce_notification_is_bounce():
    body = ('{"notificationType":"Bounce","bounce":{"bouncedRecipients":[{"emailAddress":'
            '"gone@example.com","action":"failed","status":"5.1.1"}]}}\n')
    found = classify(mail("From: SES <no-reply@sns.amazonaws.com>\nTo: support@demo.test\n"
                          "Subject: AWS Notification Message\n", body), OWN)
    assert (found.kind, found.bounced_recipient, found.bounce_status) == \
        ("bounce", "gone@example.com", "5.1.1")
