"""Agent actions over the REST API: replies, notes, merge; validation and workspace isolation."""
import base64

import pytest
from rq import Queue
from sqlalchemy import select

from store.models import AuditEntry, Message, Participant, ThreadKey, Ticket
from tests.outbound.conftest import auth, inbound, reply
from tests.outbound.mails import client_reply, first_mail
from workers.outbound import deliver


@pytest.fixture
def ticket(rt):
    assert inbound(rt, first_mail()) == "created"
    return 1


def test_reply_is_stored_queued_and_enqueued(rt, client, ticket):
    response = reply(client, ticket, author="agent-7")
    assert response.status_code == 201
    body = response.get_json()
    assert body["direction"] == "out" and body["author"] == "agent-7"
    assert body["delivery"]["status"] == "queued" and body["to"] == ["alice@customer.test"]
    [job] = Queue("outbound", connection=rt.redis).get_jobs()
    assert job.args == (body["id"],) and job.retries_left
    with rt.sessions() as s:
        t = s.scalar(select(Ticket))
        assert (t.status, t.message_count) == ("answered", 2)
        audit = s.scalars(select(AuditEntry).where(AuditEntry.kind == "status")).all()
        assert [(a.old, a.new, a.actor) for a in audit] == [("new", "answered", "agent-7")]


def test_reply_with_html_and_attachment(rt, client, ticket, sink):
    data = b"%PDF-1.4 invoice"
    response = reply(client, ticket, html="<p>See <b>attached</b><script>x()</script></p>",
                     attachments=[{"filename": "invoice.pdf", "content_type": "application/pdf",
                                   "content": base64.b64encode(data).decode()}])
    body = response.get_json()
    assert "<script>" not in body["html"] and body["attachments"][0]["size"] == len(data)
    deliver.deliver_with(rt, body["id"])
    mail = sink.parsed()
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "invoice.pdf" and part.get_content() == data
    assert "<b>attached</b>" in mail.get_body(("html",)).get_content()


def test_idempotency_key_returns_the_first_reply(rt, client, ticket):
    headers = {**auth(), "Idempotency-Key": "req-1"}
    first = client.post("/api/v1/tickets/1/replies", json={"text": "Hi"}, headers=headers)
    again = client.post("/api/v1/tickets/1/replies", json={"text": "Hi"}, headers=headers)
    assert first.get_json()["id"] == again.get_json()["id"]
    with rt.sessions() as s:
        assert len(s.scalars(select(Message).where(Message.direction == "out")).all()) == 1


@pytest.mark.parametrize("body, field", [
    ({}, "text"), ({"text": "  "}, "text"), ({"text": 5}, "text"),
    ({"text": "x" * 100_001}, "text"), ({"text": "ok", "html": 3}, "html"),
    ({"text": "ok", "author": ["x"]}, "author"),
    ({"text": "ok", "attachments": "nope"}, "attachments"),
    ({"text": "ok", "attachments": [{"filename": "a.txt", "content": "%%%"}]},
     "attachments[0].content"),
    ({"text": "ok", "attachments": [{"filename": "../x", "content": ""}]},
     "attachments[0].filename"),
])
def test_invalid_reply_is_400_naming_the_field(client, ticket, body, field):
    response = client.post("/api/v1/tickets/1/replies", json=body, headers=auth())
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


def test_not_json_is_400(client, ticket):
    response = client.post("/api/v1/tickets/1/replies", data="text=hi", headers=auth())
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("path", ["replies", "notes", "merge"])
def test_unknown_or_foreign_ticket_is_404(client, ticket, path):
    body = {"text": "x", "into": 1}
    assert client.post(f"/api/v1/tickets/99/{path}", json=body, headers=auth()).status_code == 404
    assert client.post(f"/api/v1/tickets/1/{path}", json=body,
                       headers=auth("acme")).status_code == 404
    assert client.post(f"/api/v1/tickets/1/{path}", json=body).status_code == 401


def test_note_is_stored_and_never_sent(rt, client, ticket, sink):
    response = client.post("/api/v1/tickets/1/notes", json={"text": "VIP", "author": "a1"},
                           headers=auth())
    assert response.status_code == 201
    body = response.get_json()
    assert body["direction"] == "note" and body["delivery"] is None
    assert Queue("outbound", connection=rt.redis).count == 0
    assert deliver.deliver_with(rt, body["id"]) == "skipped" and sink.mails == []
    with rt.sessions() as s:
        assert s.scalar(select(Ticket)).status == "new"


def test_reply_to_spam_ticket_is_refused(rt, client, ticket):
    with rt.sessions.begin() as s:
        s.scalar(select(Ticket)).status = "spam"
    response = reply(client, 1)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_answerable"


# --- merge -------------------------------------------------------------------------------------

def two_tickets(rt):
    assert inbound(rt, first_mail()) == "created"
    bob = first_mail(subject="Second issue", sender="Bob <bob@customer.test>")
    assert inbound(rt, bob) == "created"
    return bob


def merge(client, number, into, slug="demo"):
    return client.post(f"/api/v1/tickets/{number}/merge", json={"into": into}, headers=auth(slug))


def test_merge_moves_everything_and_later_mail_lands_on_survivor(rt, client, sink):
    bob = two_tickets(rt)
    response = merge(client, 2, 1)
    assert response.status_code == 200
    assert response.get_json() == {"number": 2, "merged_into": 1, "status": "closed"}
    with rt.sessions() as s:
        one, two = s.scalars(select(Ticket).order_by(Ticket.number)).all()
        assert (one.message_count, two.message_count, two.merged_into_id) == (2, 0, one.id)
        assert {m.ticket_id for m in s.scalars(select(Message))} == {one.id}
        assert {k.ticket_id for k in s.scalars(select(ThreadKey))} == {one.id}
        assert {p.address for p in s.scalars(select(Participant))
                if p.ticket_id == one.id} == {"alice@customer.test", "bob@customer.test"}
    later = first_mail(subject="Re: Second issue", sender="Bob <bob@customer.test>")
    later["In-Reply-To"] = bob["Message-ID"]
    assert inbound(rt, later) == "threaded"
    token_mail = first_mail(subject="Re: [#2] Second issue", sender="Bob <bob@customer.test>")
    assert inbound(rt, token_mail) == "threaded"
    detail = client.get("/api/v1/tickets/1", headers=auth()).get_json()
    assert detail["message_count"] == 4
    assert client.get("/api/v1/tickets/2", headers=auth()).get_json()["merged_into"] == 1


def test_reply_on_merged_ticket_goes_to_survivor(rt, client, sink):
    two_tickets(rt)
    merge(client, 2, 1)
    body = reply(client, 2).get_json()
    deliver.deliver_with(rt, body["id"])
    assert "[#1]" in sink.parsed()["Subject"]
    answer = client_reply(sink.parsed())
    assert inbound(rt, answer, rcpt_to=[str(answer["To"])]) == "threaded"


@pytest.mark.parametrize("into, status, code", [
    (1, 409, "same_ticket"), (99, 404, "not_found"), ("1", 400, "invalid_parameters"),
    (True, 400, "invalid_parameters"), (0, 400, "invalid_parameters")])
def test_merge_refusals(rt, client, into, status, code):
    two_tickets(rt)
    response = merge(client, 1, into)
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_merge_twice_and_cycles_are_refused(rt, client):
    two_tickets(rt)
    assert merge(client, 2, 1).status_code == 200
    assert merge(client, 2, 1).get_json()["error"]["code"] == "already_merged"
    assert merge(client, 1, 2).get_json()["error"]["code"] == "same_ticket"  # 2 -> 1 already
