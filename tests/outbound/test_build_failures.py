"""A delivery that cannot be built fails with the reason and ends: never a job that raises, is
never marked failed and comes back with every sweep (issue 10: CR/LF in a reply attachment's
filename or content type). Stored data is written directly here, as the API of an older
version (or any other writer) may have left it."""
import base64

import pytest
from rq import Queue
from sqlalchemy import update

from store.models import Message, Ticket
from tests.outbound.conftest import auth, inbound, reply
from tests.outbound.mails import first_mail
from workers.outbound import deliver, sweep
from queues import outbound as queue
from workers.outbound.autoreply import ACK_AUTHOR


@pytest.fixture
def reply_id(rt, client):
    """A queued reply with one attachment, its job already taken off the queue."""
    assert inbound(rt, first_mail()) == "created"
    response = reply(client, 1, attachments=[{
        "filename": "invoice.pdf", "content_type": "application/pdf",
        "content": base64.b64encode(b"%PDF-1.4").decode()}])
    assert response.status_code == 201, response.get_data(as_text=True)
    Queue("outbound", connection=rt.redis).empty()
    return response.get_json()["id"]


def store(rt, message_id: int, **values) -> None:
    with rt.sessions.begin() as session:
        session.execute(update(Message).where(Message.id == message_id).values(**values))


def stored_attachment(rt, message_id: int, **changes) -> list[dict]:
    with rt.sessions() as session:
        [attachment] = session.get(Message, message_id).attachments
    return [{**attachment, **changes}]


def delivery(client, message_id: int) -> dict:
    messages = client.get("/api/v1/tickets/1", headers=auth()).get_json()["messages"]
    return next(m["delivery"] for m in messages if m["id"] == message_id)


@pytest.mark.parametrize("field, value", [
    ("filename", "invoice\r\nContent-Type: text/html.pdf"), ("filename", "a\nb.pdf"),
    ("filename", "nul\x00.pdf"), ("content_type", "application/pdf\r\nX-Evil: 1"),
    ("content_type", "text/\nplain")])
def test_control_characters_in_an_attachment_fail_the_delivery_once(rt, client, sink,
                                                                     reply_id, field, value):
    store(rt, reply_id, attachments=stored_attachment(rt, reply_id, **{field: value}))
    assert deliver.deliver_with(rt, reply_id) == "failed"          # no exception: the job ends
    state = delivery(client, reply_id)
    assert state["status"] == "failed" and state["attempts"] == 1
    field_name = field.replace("_", " ")
    assert f"attachment 1: the {field_name}" in state["detail"]
    assert "control characters" in state["detail"] and sink.mails == []
    assert sweep.requeue_stalled(rt, stale_after_s=0) == 0          # the sweep leaves it alone
    assert deliver.deliver_with(rt, reply_id) == "failed"          # a rerun changes nothing
    assert delivery(client, reply_id)["attempts"] == 1


def test_the_rq_job_of_an_unbuildable_reply_ends_without_raising(rt, client, reply_id,
                                                                   monkeypatch):
    store(rt, reply_id, attachments=stored_attachment(rt, reply_id, filename="x\r\ny.pdf"))
    monkeypatch.setattr(deliver, "runtime", lambda: rt)   # the job's process runtime is ours
    job = queue.enqueue_delivery(rt.redis, reply_id)
    assert job.perform() == "failed"        # returns: RQ neither retries nor keeps it as failed
    assert delivery(client, reply_id)["status"] == "failed"
    assert sweep.requeue_stalled(rt, stale_after_s=0) == 0


def test_a_recipient_address_with_a_line_break_fails_the_delivery(rt, client, sink, reply_id):
    store(rt, reply_id, to=["alice@customer.test\r\nBcc: everyone@example.test"])
    assert deliver.deliver_with(rt, reply_id) == "failed"
    assert "is not a mail address" in delivery(client, reply_id)["detail"]
    assert sink.mails == []


def test_a_missing_attachment_blob_fails_the_delivery_with_the_reason(rt, client, sink,
                                                                      reply_id):
    store(rt, reply_id, attachments=stored_attachment(rt, reply_id, sha256="0" * 64))
    assert deliver.deliver_with(rt, reply_id) == "failed"
    detail = delivery(client, reply_id)["detail"]
    assert detail.startswith("the email delivery could not be built: FileNotFoundError")


def test_a_malformed_content_type_is_sent_as_octet_stream(rt, client, sink, reply_id):
    store(rt, reply_id, attachments=stored_attachment(rt, reply_id, content_type="pdf"))
    assert deliver.deliver_with(rt, reply_id) == "sent"
    [part] = sink.parsed().iter_attachments()
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_filename() == "invoice.pdf"


def test_line_breaks_in_the_subject_are_folded_not_fatal(rt, client, sink, reply_id):
    with rt.sessions.begin() as session:
        session.execute(update(Ticket).values(subject="Printer\r\nBcc: x@example.test on fire"))
    assert deliver.deliver_with(rt, reply_id) == "sent"
    mail = sink.parsed()
    assert mail["Subject"] == "Re: Printer Bcc: x@example.test on fire [#1]"
    assert mail["Bcc"] is None


def test_line_breaks_in_an_automatic_mail_subject_are_folded(rt, client, sink, reply_id):
    store(rt, reply_id, author=ACK_AUTHOR, subject="We received\r\nBcc: x@example.test")
    assert deliver.deliver_with(rt, reply_id) == "sent"
    mail = sink.parsed()
    assert mail["Subject"] == "We received Bcc: x@example.test" and mail["Bcc"] is None


def test_a_thread_id_that_is_no_message_id_is_left_out(rt, client, sink, reply_id):
    with rt.sessions.begin() as session:
        session.execute(update(Message).where(Message.direction == "in")
                        .values(native_id="bad id@customer.test"))
    assert deliver.deliver_with(rt, reply_id) == "sent"
    mail = sink.parsed()
    assert mail["In-Reply-To"] is None and "bad id" not in str(mail.get("References", ""))
