"""channels.mail.classify: what makes prose a bounce (never its wording alone), bounces through
mailing lists, and the precedence bounce > auto-reply > list > normal."""
from __future__ import annotations

import pytest

from channels.mail.classify import classify
from tests.channels.mailfactory import OWN, ORIGINAL_MESSAGE, customer, mail, parse

NDR_BODY = ("Delivery has failed to these recipients or groups:\n\ngone@example.com\n"
            "The email address you entered couldn't be found.\n")
PERSON = "From: Relay Admin <relay@example.net>\nTo: support@demo.test\n"


def ndr(extra: str = "", subject: str = "Undeliverable: Re: [#42] Your order",
        sender: str = PERSON, body: str = NDR_BODY):
    return classify(mail(f"{sender}Subject: {subject}\n{extra}", body), OWN)


def with_attachment(headers: str, text: str, attached: str):
    return parse(f"{headers}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
                 f"--B\nContent-Type: text/plain\n\n{text}\n--B\n{attached}--B--\n")


# --- a vendor's NDR subject needs one sign that a machine sent it ----------------------------

@pytest.mark.parametrize("extra", [
    "X-MS-Exchange-Message-Is-Ndr: \n", "X-Failed-Recipients: gone@example.com\n",
    "Auto-Submitted: auto-replied\n", "Return-Path: <>\n", "Precedence: junk\n",
    "List-Id: <talk.lists.example.org>\n",
])
def test_ndr_subject_with_a_machine_sign_is_bounce(extra):
    found = ndr(extra)
    assert (found.kind, found.bounced_recipient) == ("bounce", "gone@example.com")


def test_ndr_subject_from_a_mail_gateway_is_bounce():
    sender = "From: Email Security Gateway <esg@relay.example.net>\nTo: support@demo.test\n"
    assert ndr(sender=sender, subject="Delivery failure notification").kind == "bounce"


def test_ndr_subject_from_a_person_without_any_sign_stays_normal():
    assert ndr().kind == "normal"


def test_ndr_subject_that_returns_our_own_message_is_bounce():
    raw = with_attachment(PERSON + "Subject: Mail could not be delivered\n", NDR_BODY,
                          ORIGINAL_MESSAGE)
    found = classify(raw, OWN)
    assert (found.kind, found.original_message_id) == ("bounce", "tg.42.abc@demo.test")


def test_customer_attaching_their_own_earlier_mail_stays_normal():
    attached = ("Content-Type: message/rfc822\n\nFrom: alice@customer.test\nTo: sales@demo.test\n"
                "Subject: Order\n\nPlease send the order.\n")
    headers = ("From: alice@customer.test\nTo: support@demo.test\n"
               "Subject: Mail could not be delivered\n")
    raw = with_attachment(headers, "My mail could not be delivered, see attached.", attached)
    assert classify(raw, OWN).kind == "normal"


def test_ndr_subject_after_a_reply_prefix_is_not_a_vendor_subject():
    assert ndr("Precedence: junk\n", subject="Re: Undeliverable: your order").kind != "bounce"


def test_customer_body_about_a_failed_delivery_stays_normal():
    body = "My mail could not be delivered to your support address. Mailbox unavailable?\n"
    assert customer(body=body, subject="Help").kind == "normal"


# --- bounces through mailing lists: bounce wins over list --------------------------------------

LIST_OWNER = ("From: talk-owner@lists.example.org\nTo: support@demo.test\n"
              "List-Id: Talk <talk.lists.example.org>\nPrecedence: list\n")
ATTACHED_DSN = """\
Content-Type: message/rfc822

From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: talk-bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

This is the mail system at host mx.example.net.

--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.org
Action: failed
Status: 5.1.1

--R--
"""


def test_list_owner_forwarding_an_attached_dsn_is_bounce_with_its_facts():
    raw = with_attachment(LIST_OWNER + "Subject: Uncaught bounce notification\n",
                          "The attached message was received as a bounce.", ATTACHED_DSN)
    found = classify(raw, OWN)
    assert (found.kind, found.bounced_recipient, found.bounce_status) == \
        ("bounce", "gone@example.org", "5.1.1")
    assert found.reason.startswith("forwarded_bounce: From talk-owner@lists.example.org")


def test_list_owner_forwarding_a_customer_mail_is_not_a_bounce():
    attached = ("Content-Type: message/rfc822\n\nFrom: alice@customer.test\nTo: talk@lists."
                "example.org\nSubject: Hello\n\nHi all, my order was not delivered.\n")
    raw = with_attachment(LIST_OWNER + "Subject: Held message\n", "Please moderate.", attached)
    assert classify(raw, OWN).kind != "bounce"


def test_bounce_from_mailer_daemon_with_list_headers_is_bounce():
    found = ndr("List-Id: <talk.lists.example.org>\nList-Unsubscribe: <mailto:u@x.test>\n",
                sender="From: MAILER-DAEMON@mx.example.net\nTo: support@demo.test\n",
                subject="Mail delivery failed")
    assert found.kind == "bounce"


def test_bounce_relayed_by_a_list_is_judged_by_its_original_sender():
    relayed = ("From: Talk <talk@lists.example.org>\nTo: support@demo.test\n"
               "List-Id: <talk.lists.example.org>\nX-Original-From: postmaster@example.com\n")
    found = ndr(sender=relayed, subject="[talk] Opening hours: not delivered",
                body=NDR_BODY + "\n550 5.1.1 User unknown\n")
    assert (found.kind, found.reason.split(":")[0]) == ("bounce", "relayed_bounce")


def test_list_post_whose_original_sender_is_a_person_is_list():
    relayed = ("From: Talk <talk@lists.example.org>\nTo: support@demo.test\n"
               "List-Id: <talk.lists.example.org>\nX-Original-From: alice@customer.test\n")
    assert ndr(sender=relayed, subject="Re: delivery failed?").kind == "list"


def test_pasted_copy_of_someone_elses_mail_is_no_sign():
    body = NDR_BODY + "\n-------- Original message follows --------\nFrom: bob@else.test\n\nHi\n"
    assert ndr(subject="Mail could not be delivered", body=body).kind == "normal"


def test_pasted_copy_of_our_mail_is_a_sign():
    body = NDR_BODY + "\n-------- Original message follows --------\nFrom: support@demo.test\n"
    assert ndr(subject="Mail could not be delivered", body=body).kind == "bounce"


def test_list_mail_with_daemon_reply_to_but_no_list_headers_is_not_rewritten_daemon():
    found = ndr("Reply-To: MAILER-DAEMON@mx.example.net\n", subject="Question about bounces")
    assert found.kind == "normal"


# --- precedence: bounce > auto-reply > list > normal --------------------------------------------

def test_bounce_beats_out_of_office():
    found = classify(mail("From: MAILER-DAEMON@mx.example.net\nTo: support@demo.test\n"
                          "Subject: Out of Office: Undeliverable\n", NDR_BODY), OWN)
    assert found.kind == "bounce"


def test_out_of_office_beats_list():
    found = customer("List-Id: <talk.lists.example.org>\nPrecedence: bulk\n",
                     subject="Out of Office Re: Help")
    assert found.kind == "out_of_office"


def test_auto_reply_beats_list():
    found = customer("Auto-Submitted: auto-replied\nList-Id: <talk.lists.example.org>\n",
                     body="We received your message.\n")
    assert found.kind == "auto_reply"


def test_customer_mail_through_our_own_group_with_a_bounce_like_subject_stays_normal():
    own_group = ("List-Id: <support.demo.test>\nPrecedence: list\n"
                 "List-Unsubscribe: <mailto:support+unsubscribe@demo.test>\n")
    found = customer(own_group, subject="Mail could not be delivered",
                     body="My mail could not be delivered to your sales address.\n")
    assert found.kind == "normal"


def test_customer_attaching_a_bounce_through_our_own_group_stays_normal():
    headers = ("From: alice@customer.test\nTo: support@demo.test\nSubject: Bounced\n"
               "List-Id: <support.demo.test>\n")
    raw = with_attachment(headers, "This bounced, see attached.", ATTACHED_DSN)
    assert classify(raw, OWN).kind == "normal"
