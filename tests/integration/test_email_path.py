"""End to end: smtplib -> real aiosmtpd edge -> Redis -> real RQ worker process -> store -> API.

Runs on SQLite and PostgreSQL with the real Redis; nothing is mocked.
"""
from __future__ import annotations

import smtplib

import pytest
from rq import Queue

from gateway.web import create_app
from tests.conftest import DEMO_KEY
from tests.integration.harness import process_env, run_workers, smtp_edge
from tests.integration.mails import customer_mail, reply_to

pytestmark = pytest.mark.integration


def send(controller, msg, to=None):
    with smtplib.SMTP(controller.hostname, controller.port) as client:
        return client.send_message(msg, to_addrs=to)


def api_get(runtime, path):
    client = create_app(runtime).test_client()
    response = client.get(path, headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_mail_becomes_ticket_visible_in_api(runtime, api_keys, tmp_path):
    with smtp_edge(runtime) as edge:
        send(edge, customer_mail())
    assert Queue("email", connection=runtime.redis).count == 1
    run_workers(process_env(runtime, tmp_path))
    [ticket] = api_get(runtime, "/api/v1/tickets")["tickets"]
    assert ticket["subject"] == "Printer on fire"
    assert ticket["customer"]["email"] == "alice@customer.test"


def test_reply_threads_and_keeps_only_new_text(runtime, api_keys, tmp_path):
    original = customer_mail()
    with smtp_edge(runtime) as edge:
        send(edge, original)
        send(edge, reply_to(original, "It is still burning."))
    run_workers(process_env(runtime, tmp_path))
    [ticket] = api_get(runtime, "/api/v1/tickets")["tickets"]
    detail = api_get(runtime, f"/api/v1/tickets/{ticket['number']}")
    assert [m["reply_text"].strip() for m in detail["messages"]][1] == "It is still burning."


def test_subject_token_threads_only_for_participants(runtime, api_keys, tmp_path):
    with smtp_edge(runtime) as edge:
        send(edge, customer_mail())
        run_workers(process_env(runtime, tmp_path))
        send(edge, customer_mail(subject="Re: [#1] Printer on fire", body="More info"))
        send(edge, customer_mail(subject="[#1] let me in", sender="mallory@evil.test"))
    run_workers(process_env(runtime, tmp_path))
    tickets = api_get(runtime, "/api/v1/tickets")["tickets"]
    assert sorted(t["message_count"] for t in tickets) == [1, 2]


def test_same_mail_delivered_twice_is_one_message(runtime, api_keys, tmp_path):
    msg = customer_mail()
    with smtp_edge(runtime) as edge:
        send(edge, msg)
        send(edge, msg)
    run_workers(process_env(runtime, tmp_path))
    [ticket] = api_get(runtime, "/api/v1/tickets")["tickets"]
    assert ticket["message_count"] == 1


def test_unknown_recipient_is_refused_with_550(runtime):
    with smtp_edge(runtime) as edge:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(edge, customer_mail(to="someone@elsewhere.test"))
    [(code, text)] = refused.value.recipients.values()
    assert code == 550 and b"5.1.1" in text


def test_oversized_mail_is_refused_with_552(runtime):
    with smtp_edge(runtime, size_limit=10_000) as edge:
        with pytest.raises(smtplib.SMTPException) as refused:
            send(edge, customer_mail(body="x" * 20_000))
    assert "552" in str(refused.value)


def test_two_workers_racing_on_one_conversation_make_one_ticket(runtime, api_keys, tmp_path):
    pairs = [customer_mail(subject=f"Case {i}", sender=f"c{i}@customer.test") for i in range(15)]
    with smtp_edge(runtime) as edge:
        for original in pairs:
            send(edge, original)
            send(edge, reply_to(original, "follow-up"))
    run_workers(process_env(runtime, tmp_path), count=2)
    tickets = api_get(runtime, "/api/v1/tickets?limit=100")["tickets"]
    assert sorted(t["message_count"] for t in tickets) == [2] * 15
