"""Reply-all: a reply goes To the customer and Cc the other participants of their latest mail
(never our own, bouncing or unverified addresses); ``to``, ``cc``, ``bcc`` override it; the
mail, the stored message and the API show who got it; a workspace setting turns it off.
SQLite and PostgreSQL."""
import copy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from config.workspaces import parse_config
from gateway.web import create_app
from store import repo
from store.models import Contact, Customer, Identity, Message, Ticket
from tests.conftest import TEST_CONFIG
from tests.outbound.conftest import auth, inbound, reply, with_relay
from tests.outbound.mails import first_mail
from workers.outbound import deliver

ALICE = "alice@customer.test"


@pytest.fixture
def rt(runtime, sink, api_keys):
    return with_relay(runtime, sink.url)


@pytest.fixture
def client(rt):
    return create_app(rt).test_client()


def group_mail(to: str, cc: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Cc"] = f"Alice <{ALICE}>", to, cc
    msg["Subject"], msg["Message-ID"] = "Printer on fire", make_msgid(domain="customer.test")
    msg.set_content("Hello, see Cc.")
    return msg


def known(rt, address: str, *, bouncing: bool = False, contact: bool = False) -> None:
    """``address`` as some customer's bouncing identity, or unproven contact."""
    with rt.sessions.begin() as s:
        workspace_id = s.scalar(select(Ticket.workspace_id))
        customer = Customer(workspace_id=workspace_id, name="other")
        s.add(customer)
        s.flush()
        row = (Contact if contact else Identity)(workspace_id=workspace_id,
                                                 customer_id=customer.id, kind="email",
                                                 value=address)
        if not contact:
            row.bouncing = bouncing
        s.add(row)


@pytest.fixture
def group_ticket(rt):
    mail = group_mail("support@demo.test, Carol <carol@customer.test>, mallory@evil.test",
                      "dave@partner.test, help+x@demo.test, support+1@demo.test, "
                      "help@acme.test, Help+t@ACME.test, "
                      "bounced@partner.test, eve@claimed.test, ALICE@customer.test")
    assert inbound(rt, mail) == "created"
    known(rt, "bounced@partner.test", bouncing=True)
    known(rt, "eve@claimed.test", contact=True)
    with rt.sessions.begin() as s:  # mallory wrote to the ticket before, unverified
        ticket = s.scalar(select(Ticket))
        s.add(Message(workspace_id=ticket.workspace_id, ticket_id=ticket.id, direction="in",
                      channel="email", dedupe_key="stranger", from_address="mallory@evil.test",
                      to=[], cc=[], sender_verified=False, received_at="2000-01-01T00:00:00"))
    return 1


def test_default_reply_goes_to_everyone_who_should_hear_it(rt, client, sink, group_ticket):
    response = reply(client, group_ticket)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["to"], body["cc"], body["bcc"]) == (
        [ALICE], ["carol@customer.test", "dave@partner.test"], [])
    deliver.deliver_with(rt, body["id"])
    mail_from, rcpt_tos, _ = sink.mails[-1]
    assert rcpt_tos == [ALICE, "carol@customer.test", "dave@partner.test"]
    mail = sink.parsed()
    assert mail["To"] == ALICE and mail["Cc"] == "carol@customer.test, dave@partner.test"
    assert mail["Bcc"] is None
    shown = client.get("/api/v1/tickets/1", headers=auth()).get_json()["messages"][-1]
    assert (shown["to"], shown["cc"], shown["bcc"]) == (body["to"], body["cc"], [])


def test_named_recipients_override_and_bcc_is_envelope_only(rt, client, sink, group_ticket):
    response = reply(client, group_ticket, to=["Boss@Customer.test"], cc=[],
                     bcc=["audit@partner.test", "boss@customer.test"])
    body = response.get_json()
    assert response.status_code == 201, body
    assert (body["to"], body["cc"], body["bcc"]) == (
        ["boss@customer.test"], [], ["audit@partner.test"])
    deliver.deliver_with(rt, body["id"])
    _, rcpt_tos, raw = sink.mails[-1]
    assert rcpt_tos == ["boss@customer.test", "audit@partner.test"]
    assert b"audit@partner.test" not in raw and sink.parsed()["Cc"] is None
    with rt.sessions() as s:
        stored = s.get(Message, body["id"])
        assert (stored.to, stored.cc, stored.bcc) == (body["to"], [], body["bcc"])


def test_cc_alone_keeps_the_customer_as_to(client, group_ticket):
    body = reply(client, group_ticket, cc=["carol@customer.test"]).get_json()
    assert (body["to"], body["cc"]) == ([ALICE], ["carol@customer.test"])


@pytest.mark.parametrize("extra, field", [
    ({"to": []}, "to"), ({"to": "a@b.test"}, "to"), ({"cc": ["nobody"]}, "cc[0]"),
    ({"cc": ["a@b.test\r\nBcc: x@y.test"]}, "cc[0]"), ({"bcc": ["a@b.test\n"]}, "bcc[0]"),
    ({"to": ["Ann <ann@b.test>"]}, "to[0]"), ({"to": ["a@b.test, c@d.test"]}, "to[0]"),
    ({"cc": [f"u{i}@b.test" for i in range(21)]}, "cc"), ({"bcc": [5]}, "bcc[0]"),
    ({"to": [f"u{i}@b.test" for i in range(11)]}, "to"), ({"cc": None, "bcc": [""]}, "bcc[0]"),
    ({"cc": ["support@demo.test"]}, "cc[0]"), ({"bcc": ["x+1@demo.test"]}, "bcc[0]"),
])
def test_bad_recipients_are_400_naming_the_field(client, group_ticket, extra, field):
    response = reply(client, group_ticket, **extra)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"], response.get_json()


def test_reply_all_can_be_turned_off(rt, client, group_ticket):
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["outbound"] = {"reply_all": False}
    rt.config = parse_config(data)
    body = reply(client, group_ticket).get_json()
    assert (body["to"], body["cc"]) == ([ALICE], [])
    named = reply(client, group_ticket, cc=["carol@customer.test"]).get_json()
    assert named["cc"] == ["carol@customer.test"]  # naming them still works


def test_a_plain_mail_gets_no_cc(rt, client):
    assert inbound(rt, first_mail()) == "created"
    body = reply(client, 1).get_json()
    assert (body["to"], body["cc"], body["bcc"]) == ([ALICE], [], [])


def test_chat_tickets_take_no_recipients(rt, client):
    with rt.sessions.begin() as s:
        workspace = repo.workspace_row(s, "demo")
        s.add(Ticket(workspace_id=workspace.id, number=1, subject="hi", channel="chat"))
    response = reply(client, 1, cc=["carol@customer.test"])
    assert response.status_code == 400 and "cc" in response.get_json()["error"]["fields"]
