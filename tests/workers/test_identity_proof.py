"""Identity needs proof (issue 10, item 6; docs/threading.md), on SQLite and PostgreSQL: an
unproven sender never threads by subject token, never joins a ticket unflagged, and never
receives the agents' replies."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.web import create_app
from store.models import OutboxEntry, Participant
from tests.conftest import DEMO_KEY
from tests.workers.inputs import form, mail, messages, tickets
from workers.outbound import deliver

ALICE, MALLORY = "alice@customer.test", "mallory@evil.test"


@pytest.fixture(autouse=True)
def signing_key(monkeypatch, tmp_path):
    monkeypatch.setenv("TICKETGATE_SIGNING_KEY", "test-signing-key-0123456789")
    monkeypatch.setenv("TICKETGATE_VAR_DIR", str(tmp_path / "var"))


@pytest.fixture
def api(runtime, api_keys):
    return create_app(runtime).test_client()


def answer(runtime, api, number: int = 1) -> dict:
    """An agent's reply, delivered (no relay: into the outbox); returns it as the API shows it."""
    response = api.post(f"/api/v1/tickets/{number}/replies", json={"text": "We are on it."},
                        headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    deliver.deliver_with(runtime, response.get_json()["id"])
    return response.get_json()


def outbox_recipients(runtime) -> list[list[str]]:
    with runtime.sessions() as s:
        return [e.recipients for e in s.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]


def shown_messages(api, number: int = 1) -> list[dict]:
    response = api.get(f"/api/v1/tickets/{number}", headers={"Authorization": f"Bearer {DEMO_KEY}"})
    return response.get_json()["messages"]


def participants(runtime) -> set[str]:
    with runtime.sessions() as s:
        return set(s.scalars(select(Participant.address)))


# --- the contact form's subject token ---

def test_form_naming_a_customer_with_subject_token_opens_a_new_ticket(runtime):
    """Reproduction: the form's address is unproven, so its [#N] never threads."""
    assert mail(runtime, ALICE)[0] == "created"
    assert form(runtime, ALICE, "[#1] Please send me the invoice") == "created"
    first, second = tickets(runtime)
    assert (first.message_count, second.message_count) == (1, 1)
    assert second.subject == "[#1] Please send me the invoice"


def test_participant_by_email_still_threads_by_subject_token(runtime):
    mail(runtime, ALICE)
    assert mail(runtime, ALICE, subject="Re: [#1] Printer on fire")[0] == "threaded"
    assert [t.message_count for t in tickets(runtime)] == [2]


def test_stranger_by_email_does_not_thread_by_subject_token(runtime):
    mail(runtime, ALICE)
    assert mail(runtime, MALLORY, subject="Re: [#1] Printer on fire")[0] == "created"


# --- a stranger who knows a Message-ID ---

def test_stranger_with_a_customers_message_id_is_kept_flagged(runtime, api):
    """Reproduction: the stranger's mail stays on the ticket, visibly unverified."""
    _, first_id = mail(runtime, ALICE)
    assert mail(runtime, MALLORY, in_reply_to=first_id, text="I am Alice")[0] == "threaded"
    [ticket] = tickets(runtime)
    assert ticket.message_count == 2
    assert [m.sender_verified for m in messages(runtime)] == [True, False]
    shown = shown_messages(api)
    assert [(m["from"]["address"], m["sender_verified"]) for m in shown] == [
        (ALICE, True), (MALLORY, False)]


def test_agent_reply_after_a_stranger_goes_to_the_customer(runtime, api):
    """Reproduction: replies went to the last inbound sender, the stranger."""
    _, first_id = mail(runtime, ALICE)
    mail(runtime, MALLORY, in_reply_to=first_id)
    reply = answer(runtime, api)
    assert reply["to"] == [ALICE]
    assert outbox_recipients(runtime) == [[ALICE]]


def test_stranger_never_becomes_a_participant(runtime):
    _, first_id = mail(runtime, ALICE)
    mail(runtime, MALLORY, in_reply_to=first_id, cc="eve@evil.test")
    assert participants(runtime) == {ALICE}
    assert mail(runtime, MALLORY, subject="Re: [#1] Printer on fire")[0] == "created"


def test_reply_mail_never_names_the_strangers_message(runtime, api):
    _, first_id = mail(runtime, ALICE)
    _, stranger_id = mail(runtime, MALLORY, in_reply_to=first_id)
    answer(runtime, api)
    with runtime.sessions() as s:
        raw = runtime.blobs.get(s.scalar(select(OutboxEntry.raw_ref)))
    assert first_id.encode() in raw and stranger_id.strip("<>").encode() not in raw


def test_customer_from_a_second_address_is_kept_flagged_and_answered_at_the_first(runtime, api):
    _, first_id = mail(runtime, ALICE)
    assert mail(runtime, "alice@work.test", in_reply_to=first_id)[0] == "threaded"
    assert [m.sender_verified for m in messages(runtime)] == [True, False]
    assert answer(runtime, api)["to"] == [ALICE]
    assert outbox_recipients(runtime) == [[ALICE]]


def test_address_the_customer_copied_takes_part(runtime, api):
    """Participants: the customer and whom a verified message of theirs copied."""
    _, first_id = mail(runtime, ALICE, cc="Bob <bob@customer.test>")
    assert mail(runtime, "bob@customer.test", in_reply_to=first_id)[0] == "threaded"
    assert [m.sender_verified for m in messages(runtime)] == [True, True]
    assert answer(runtime, api)["to"] == [ALICE]  # the ticket's customer, not the last sender


def test_customer_replying_again_is_verified_and_answered(runtime, api):
    _, first_id = mail(runtime, ALICE)
    mail(runtime, MALLORY, in_reply_to=first_id)
    mail(runtime, ALICE, in_reply_to=first_id, text="Any news?")
    assert [m.sender_verified for m in messages(runtime)] == [True, False, True]
    assert answer(runtime, api)["to"] == [ALICE]
