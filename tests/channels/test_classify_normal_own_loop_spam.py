"""channels.mail.classify: customer mail stays normal, our own mail is own_loop, spam flags."""
from __future__ import annotations

from channels.mail.classify import classify
from tests.channels.mailfactory import CUSTOMER, OWN, customer, mail


# --- normal ------------------------------------------------------------------------------------

def test_plain_customer_mail_is_normal():
    assert customer().kind == "normal"


def test_normal_reason_says_no_rule_matched():
    assert customer().reason.startswith("normal:")


def test_outlook_auto_response_suppress_alone_is_normal():
    assert customer("X-Auto-Response-Suppress: All\n").kind == "normal"


def test_reply_to_our_mail_is_normal():
    assert customer("In-Reply-To: <tg.42.abc@demo.test>\n").kind == "normal"


def test_customer_subject_about_undelivered_parcel_is_normal():
    assert customer(subject="Undeliverable parcel, returned to sender").kind == "normal"


def test_customer_subject_starting_with_absence_word_is_normal():
    assert customer(subject="Absence of invoice in my account").kind == "normal"


def test_customer_forwarding_a_bounce_is_normal():
    body = ("I cannot reach your sales team, see below.\n\n"
            "> From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
            "> Subject: Undelivered Mail Returned to Sender\n"
            "> <sales@demo.test>: host mx said: 550 5.1.1 User unknown\n")
    assert customer(subject="Fwd: Undelivered Mail Returned to Sender", body=body).kind == \
        "normal"


def test_person_writing_from_postmaster_address_is_normal():
    headers = CUSTOMER.replace("alice@customer.test", "postmaster@customer.test")
    body = "Hi, could you add our new IP to your allow list? Thanks.\n"
    assert classify(mail(headers, body), OWN).kind == "normal"


def test_spam_status_no_is_normal():
    assert customer("X-Spam-Status: No, score=0.1 required=5.0\n").kind == "normal"


def test_auto_submitted_no_is_normal():
    assert customer("Auto-Submitted: no\n").kind == "normal"


def test_feedback_id_alone_is_normal():
    assert customer("Feedback-ID: 123:456:gmail\n").kind == "normal"


# --- own_loop ----------------------------------------------------------------------------------

def test_loop_header_is_own_loop():
    found = customer("X-Ticketgate-Loop: demo\n")
    assert (found.kind, found.reason.split(":")[0]) == ("own_loop", "loop_header")


def test_our_message_id_is_own_loop():
    headers = CUSTOMER.replace("<CAF123@mail.customer.test>", "<tg.42.abc@demo.test>")
    assert classify(mail(headers), OWN).kind == "own_loop"


def test_our_message_id_on_a_subdomain_is_own_loop():
    headers = CUSTOMER.replace("<CAF123@mail.customer.test>", "<tg.42.abc@mail.demo.test>")
    assert classify(mail(headers), OWN).kind == "own_loop"


def test_tg_message_id_of_a_foreign_domain_is_normal():
    headers = CUSTOMER.replace("<CAF123@mail.customer.test>", "<tg.42.abc@customer.test>")
    assert classify(mail(headers), OWN).kind == "normal"


# --- spam --------------------------------------------------------------------------------------

def test_spam_flag_yes_is_spam():
    assert customer("X-Spam-Flag: YES\n").kind == "spam"


def test_spam_status_yes_is_spam():
    assert customer("X-Spam-Status: Yes, score=9.2 required=5.0\n").kind == "spam"
