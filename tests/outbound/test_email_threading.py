"""An agent's reply by email, relayed to a local SMTP sink, answered as a client would: the
answer threads back through each hint on its own, and a forged or altered token does not."""
import pytest
from sqlalchemy import delete, func, select

from channels import tokens
from store.models import Message, ThreadKey, Ticket
from tests.outbound.conftest import SIGNING_KEY, auth, inbound, reply_and_deliver, with_relay
from tests.outbound.mails import client_reply, first_mail


def tickets(rt):
    with rt.sessions() as s:
        return s.scalars(select(Ticket).order_by(Ticket.number)).all()


def message_count(rt):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(Message))


@pytest.fixture
def answered(rt, client, sink):
    """Ticket 1 from Alice, answered by an agent; returns the mail the sink received."""
    first = first_mail()
    assert inbound(rt, first) == "created"
    reply_and_deliver(rt, client)
    return first, sink.parsed()


def test_reply_mail_carries_every_thread_hint(answered, sink):
    first, ours = answered
    token = tokens.sign(SIGNING_KEY, "demo", 1)
    mail_from, rcpt_tos, _ = sink.mails[0]
    assert (mail_from, rcpt_tos) == ("support@demo.test", ["alice@customer.test"])
    assert ours["From"].addresses[0].addr_spec == "support@demo.test"
    assert ours["Subject"] == "Re: Printer on fire [#1]"
    assert ours["Message-ID"].startswith(f"<tg.{token}.")
    assert ours["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in ours["References"]
    assert ours["Reply-To"] == f"support+{token}@demo.test"
    assert ours["X-Ticketgate-Loop"] == "demo"
    assert ours["Auto-Submitted"] is None and ours["X-Auto-Response-Suppress"] is None
    text, html = ours.get_body(("plain",)).get_content(), ours.get_body(("html",)).get_content()
    assert "We are on it." in text and f"[tg:{token}]" in text
    assert f"<!-- tg:{token} -->" in html and "We are on it." in html


VARIANTS = {
    "headers": dict(headers=True, reply_address=False, subject=False, quote=False),
    "reply_address": dict(headers=False, reply_address=True, subject=False, quote=False),
    "body_marker": dict(headers=False, reply_address=False, subject=False, quote=True),
    "subject_token": dict(headers=False, reply_address=False, subject=True, quote=False),
}


@pytest.mark.parametrize("hint", VARIANTS)
def test_answer_threads_by_each_hint_alone(rt, answered, hint):
    _, ours = answered
    answer = client_reply(ours, **VARIANTS[hint])
    assert inbound(rt, answer, rcpt_to=[str(answer["To"])]) == "threaded"
    [ticket] = tickets(rt)
    assert (ticket.message_count, ticket.status) == (3, "open")


def test_answer_without_any_hint_opens_a_new_ticket(rt, answered):
    _, ours = answered
    answer = client_reply(ours, headers=False, reply_address=False, subject=False, quote=False)
    assert inbound(rt, answer) == "created"


def test_our_message_id_threads_even_without_its_stored_key(rt, answered):
    _, ours = answered
    with rt.sessions.begin() as s:
        s.execute(delete(ThreadKey).where(ThreadKey.key.like("mid:tg.%")))
    answer = client_reply(ours, reply_address=False, subject=False, quote=False)
    assert inbound(rt, answer) == "threaded"


def forged(token: str) -> str:
    return token[:-3] + ("aaa" if token[-3:] != "aaa" else "bbb")


@pytest.mark.parametrize("where", ["reply_address", "body_marker", "message_id"])
def test_altered_token_does_not_thread(rt, answered, where):
    _, ours = answered
    token = tokens.sign(SIGNING_KEY, "demo", 1)
    answer = client_reply(ours, headers=where == "message_id", subject=False,
                          reply_address=where == "reply_address", quote=where == "body_marker")
    if where == "message_id":  # only our (altered) id: References would name Alice's first
        del answer["References"]
    raw = answer.as_bytes().replace(token.encode(), forged(token).encode())
    assert inbound(rt, raw, rcpt_to=[str(answer["To"]).replace(token, forged(token))]) == "created"


@pytest.mark.parametrize("key, workspace", [("someone-elses-key", "demo"), (SIGNING_KEY, "acme")])
def test_token_signed_elsewhere_does_not_thread(rt, answered, key, workspace):
    _, ours = answered
    foreign = tokens.sign(key, workspace, 1)
    answer = client_reply(ours, headers=False, subject=False, quote=False)
    answer.replace_header("To", f"support+{foreign}@demo.test")
    assert inbound(rt, answer, rcpt_to=[str(answer["To"])]) == "created"


def test_full_client_answer_threads_on_both_databases(runtime, sink, api_keys):
    from gateway.web import create_app
    rt = with_relay(runtime, sink.url)
    client = create_app(rt).test_client()
    assert inbound(rt, first_mail()) == "created"
    body = reply_and_deliver(rt, client)
    assert tickets(rt)[0].status == "answered"
    detail = client.get("/api/v1/tickets/1", headers=auth()).get_json()
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]
    answer = client_reply(sink.parsed())
    assert inbound(rt, answer, rcpt_to=[str(answer["To"])]) == "threaded"
    assert tickets(rt)[0].status == "open" and message_count(rt) == 3
    with rt.sessions() as s:
        sent = s.get(Message, body["id"])
        assert (sent.delivery_status, sent.attempts) == ("sent", 1)
        assert sent.delivered_at is not None


@pytest.mark.parametrize("hint", ["headers", "reply_address", "body_marker"])
def test_stranger_answering_our_mail_is_kept_but_never_answered(rt, client, sink, answered,
                                                                 hint):
    """A copy of our reply in a stranger's hands threads (by any hint) flagged as an unverified
    sender; the next reply still goes to Alice alone and names only her mail."""
    first, ours = answered
    answer = client_reply(ours, **VARIANTS[hint], sender="Mallory <mallory@evil.test>")
    assert inbound(rt, answer, rcpt_to=[str(answer["To"])]) == "threaded"
    detail = client.get("/api/v1/tickets/1", headers=auth()).get_json()
    assert [m["sender_verified"] for m in detail["messages"]] == [True, True, False]
    reply_and_deliver(rt, client, text="Second answer")
    mail_from, rcpt_tos, _ = sink.mails[-1]
    assert rcpt_tos == ["alice@customer.test"]
    second = sink.parsed()
    assert second["In-Reply-To"] == first["Message-ID"]
    assert answer["Message-ID"] not in second["References"]
