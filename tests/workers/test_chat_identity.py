"""A chat visitor's email (issue 10, item 6; docs/threading.md), on SQLite and PostgreSQL: typed
into the widget, or sent by the webhook without ``email_verified``, it is an unverified contact
of the visitor and never links them to the email customer; the signed webhook's
``email_verified: true`` links."""
from __future__ import annotations

import pytest

from gateway.web import create_app
from tests.conftest import DEMO_KEY
from tests.workers.inputs import (chat, contacts, customer_count, customer_of, identities, mail,
                                  messages, tickets)

ALICE = "alice@customer.test"


def visitor(email: str = ALICE, verified: bool | None = None, id: str = "v-1") -> dict:
    found = {"id": id, "name": "Visitor", "email": email}
    if verified is not None:
        found["email_verified"] = verified
    return found


@pytest.mark.parametrize("source", ["widget", "webhook"])
def test_typed_email_never_links_the_visitor_across_messages(runtime, source):
    """Reproduction: the widget's typed email linked an anonymous visitor to the customer."""
    mail(runtime, ALICE)
    alice = customer_of(runtime, "email", ALICE)
    for n in range(3):
        assert chat(runtime, visitor(), source=source, text=f"message {n}") in ("created",
                                                                                "threaded")
    stranger = customer_of(runtime, "chat", "v-1")
    assert stranger is not None and stranger != alice
    assert identities(runtime, alice) == {("email", ALICE)}
    assert identities(runtime, stranger) == {("chat", "v-1")}
    assert contacts(runtime) == [(stranger, "email", ALICE)]  # kept once, unverified
    mail_ticket, chat_ticket = tickets(runtime)
    assert (chat_ticket.customer_id, chat_ticket.message_count) == (stranger, 3)


def test_widget_cannot_claim_a_verified_email(runtime):
    """Only the business's signed webhook vouches; a widget payload saying so is ignored."""
    mail(runtime, ALICE)
    chat(runtime, visitor(verified=True), source="widget")
    assert customer_of(runtime, "chat", "v-1") != customer_of(runtime, "email", ALICE)


def test_verified_email_from_the_webhook_links_across_messages(runtime):
    mail(runtime, ALICE)
    alice = customer_of(runtime, "email", ALICE)
    for n in range(3):
        chat(runtime, visitor(verified=True), text=f"message {n}")
    assert customer_of(runtime, "chat", "v-1") == alice
    assert identities(runtime, alice) == {("email", ALICE), ("chat", "v-1")}
    assert contacts(runtime) == [] and customer_count(runtime) == 1
    assert [t.customer_id for t in tickets(runtime)] == [alice, alice]


def test_verified_email_of_a_new_address_becomes_an_identity(runtime):
    chat(runtime, visitor(email="new@customer.test", verified=True))
    assert identities(runtime, customer_of(runtime, "chat", "v-1")) == {
        ("chat", "v-1"), ("email", "new@customer.test")}
    assert mail(runtime, "new@customer.test")[0] == "created"
    assert customer_count(runtime) == 1


def test_contact_proven_later_becomes_an_identity(runtime):
    chat(runtime, visitor(email="new@customer.test"))
    chat(runtime, visitor(email="new@customer.test", verified=True))
    me = customer_of(runtime, "chat", "v-1")
    assert ("email", "new@customer.test") in identities(runtime, me)
    assert contacts(runtime) == []


def test_typed_email_of_the_visitors_own_identity_adds_no_contact(runtime):
    chat(runtime, visitor(email="new@customer.test", verified=True))
    chat(runtime, visitor(email="new@customer.test"), source="widget")
    assert contacts(runtime) == []


def test_two_visitors_may_claim_the_same_email(runtime):
    chat(runtime, visitor(id="v-1"), conversation="c-1")
    chat(runtime, visitor(id="v-2"), conversation="c-2")
    assert len(contacts(runtime)) == 2
    assert customer_of(runtime, "email", ALICE) is None


def test_conversation_messages_are_verified(runtime):
    chat(runtime, visitor())
    chat(runtime, visitor(id="v-2"))  # another member of the same conversation
    assert [m.sender_verified for m in messages(runtime)] == [True, True]


def test_api_shows_the_contact_as_unverified(runtime, api_keys):
    mail(runtime, ALICE)
    chat(runtime, visitor(), source="widget")
    client = create_app(runtime).test_client()
    response = client.get("/api/v1/tickets/2", headers={"Authorization": f"Bearer {DEMO_KEY}"})
    customer = response.get_json()["customer"]
    assert customer["email"] is None  # never an unverified address
    assert customer["identities"] == [
        {"kind": "chat", "value": "v-1", "bouncing": False, "verified": True},
        {"kind": "email", "value": ALICE, "bouncing": False, "verified": False}]


def test_proven_email_of_a_chat_customer_threads_by_subject_token(runtime):
    """Participants include every identity of the ticket's customer."""
    chat(runtime, visitor(email="new@customer.test", verified=True))
    assert mail(runtime, "new@customer.test", subject="Re: [#1] Chat")[0] == "threaded"
    assert [t.message_count for t in tickets(runtime)] == [2]
    assert [m.sender_verified for m in messages(runtime)] == [True, True]
