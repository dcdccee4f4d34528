"""Webhook mail through the real pipeline (SQLite and PostgreSQL): threading with SMTP mail,
one message for one mail whatever the path, attachments in the blob store, quarantine."""
from __future__ import annotations

import hashlib
import json
import smtplib

import pytest

from gateway.web import create_app
from tests.conftest import DEMO_KEY
from tests.inbound.conftest import drain
from tests.inbound.fixtures import mailgun, postmark, sendgrid
from tests.inbound.fixtures.mail import File, customer_mail
from tests.inbound.posting import post_mailgun, post_postmark, post_sendgrid
from tests.integration.harness import smtp_edge

PDF = File("report.pdf", "application/pdf", b"%PDF-1.7\n" + b"\x01\x02" * 3000)


def post_by(provider: str, client, msg):
    if provider == "mailgun":
        return post_mailgun(client, *mailgun.parsed_fields(msg))
    if provider == "sendgrid":
        return post_sendgrid(client, *sendgrid.parsed_fields(msg))
    return post_postmark(client, postmark.inbound_json(msg))


def send_smtp(runtime, msg):
    with smtp_edge(runtime) as edge:
        with smtplib.SMTP(edge.hostname, edge.port) as smtp:
            smtp.send_message(msg)


def api(client, path):
    response = client.get(path, headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def web(runtime, api_keys):
    return create_app(runtime).test_client()


@pytest.mark.parametrize("provider", ["mailgun", "sendgrid", "postmark"])
def test_webhook_reply_threads_into_the_ticket_smtp_opened(runtime, web, provider):
    original = customer_mail()
    send_smtp(runtime, original)
    assert drain(runtime) == ["created"]
    reply = customer_mail(subject="Re: Printer on fire", body="Still burning.",
                          in_reply_to=original["Message-ID"])
    assert post_by(provider, web, reply).status_code == 200
    assert drain(runtime) == ["threaded"]
    [ticket] = api(web, "/api/v1/tickets")["tickets"]
    assert ticket["message_count"] == 2
    messages = api(web, f"/api/v1/tickets/{ticket['number']}")["messages"]
    assert [m["channel"] for m in messages] == ["email", "email"]
    assert messages[1]["reply_text"].strip() == "Still burning."


@pytest.mark.parametrize("provider", ["mailgun", "sendgrid", "postmark"])
def test_same_mail_by_smtp_and_by_webhook_is_one_message(runtime, web, provider):
    msg = customer_mail(files=(PDF,))
    send_smtp(runtime, msg)
    assert post_by(provider, web, msg).status_code == 200
    assert sorted(drain(runtime)) == ["created", "duplicate"]
    [ticket] = api(web, "/api/v1/tickets")["tickets"]
    assert ticket["message_count"] == 1


def test_provider_retry_of_the_same_post_is_one_message(runtime, web):
    msg = customer_mail()
    assert post_by("postmark", web, msg).status_code == 200
    assert post_by("postmark", web, msg).status_code == 200  # Postmark retried: our 200 was lost
    assert sorted(drain(runtime)) == ["created", "duplicate"]


def test_attachments_are_stored_by_sha256(runtime, web):
    assert post_by("sendgrid", web, customer_mail(files=(PDF,))).status_code == 200
    assert drain(runtime) == ["created"]
    sha = hashlib.sha256(PDF.data).hexdigest()
    assert runtime.blobs.get(sha) == PDF.data
    [ticket] = api(web, "/api/v1/tickets")["tickets"]
    [message] = api(web, f"/api/v1/tickets/{ticket['number']}")["messages"]
    assert message["attachments"] == [{"filename": "report.pdf", "content_type":
                                       "application/pdf", "size": len(PDF.data), "sha256": sha}]


def test_provider_request_is_kept_as_the_raw_payload(runtime, web):
    body, ctype = mailgun.encode(mailgun.mime_fields(customer_mail()) + mailgun.signature())
    assert web.post("/hooks/inbound/mailgun/demo/mime", data=body,
                    content_type=ctype).status_code == 200
    drain(runtime)
    assert runtime.blobs.get(hashlib.sha256(body).hexdigest()) == body


def test_authenticated_junk_goes_to_quarantine(runtime, web):
    junk = {"RawEmail": "this is no mail at all", "OriginalRecipient": "support@demo.test"}
    assert post_postmark(web, junk).status_code == 200
    assert drain(runtime) == ["quarantined"]
    [entry] = api(web, "/api/v1/quarantine")["entries"]
    assert entry["channel"] == "email" and entry["reason"] == "unparseable"
    assert "no mail headers" in json.dumps(entry)
