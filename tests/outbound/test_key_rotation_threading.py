"""Key rotation end to end: a customer answering mail sent before a rotation still lands on the
ticket (reply address, body marker alone); once the old key is removed, the token no longer
threads. Mail sent after the rotation is signed with the new key."""
import pytest

from channels import tokens
from tests.outbound.conftest import SIGNING_KEY, inbound, reply_and_deliver
from tests.outbound.mails import client_reply, first_mail

NEW, NEWER = "rotated-key-" + "n" * 20, "rotated-again-" + "m" * 18
ONLY = {"reply_address": dict(headers=False, reply_address=True, subject=False, quote=False),
        "body_marker": dict(headers=False, reply_address=False, subject=False, quote=True)}


@pytest.fixture
def sent_before_rotation(rt, client, sink):
    """Ticket 1 answered while only ``SIGNING_KEY`` existed; the mail the customer got."""
    assert inbound(rt, first_mail()) == "created"
    reply_and_deliver(rt, client)
    return sink.parsed()


@pytest.mark.parametrize("hint", ONLY)
def test_answer_to_mail_sent_before_a_rotation_threads(rt, sent_before_rotation, monkeypatch,
                                                       hint):
    monkeypatch.setenv("TICKETGATE_SIGNING_KEY", f"{NEW},{SIGNING_KEY}")
    answer = client_reply(sent_before_rotation, **ONLY[hint])
    assert inbound(rt, answer, rcpt_to=[str(answer["To"])]) == "threaded"


@pytest.mark.parametrize("hint", ONLY)
def test_answer_signed_with_a_removed_key_does_not_thread(rt, sent_before_rotation,
                                                          monkeypatch, hint):
    monkeypatch.setenv("TICKETGATE_SIGNING_KEY", f"{NEWER},{NEW}")
    answer = client_reply(sent_before_rotation, **ONLY[hint])
    assert inbound(rt, answer, rcpt_to=[str(answer["To"])]) == "created"


def test_mail_after_a_rotation_is_signed_with_the_newest_key(rt, client, sink, monkeypatch,
                                                             sent_before_rotation):
    monkeypatch.setenv("TICKETGATE_SIGNING_KEY", f"{NEW},{SIGNING_KEY}")
    reply_and_deliver(rt, client, text="Second answer.")
    token = str(sink.parsed()["Reply-To"]).split("+", 1)[1].split("@")[0]
    assert tokens.verify(NEW, "demo", token) == 1
    assert tokens.verify(SIGNING_KEY, "demo", token) is None
