"""End to end: contact form POST -> Redis -> real RQ worker process on ``form`` -> store -> API.

Runs on SQLite and PostgreSQL with the real Redis; nothing is mocked.
"""
from __future__ import annotations

import io
import re

import pytest

from gateway.web import create_app
from tests.conftest import DEMO_KEY
from tests.integration.harness import process_env, start_worker

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ALICE = {"name": "Alice", "email": "Alice@Customer.test", "subject": "Printer on fire",
         "message": "Please send help."}


def run_form_worker(runtime, tmp_path) -> None:
    worker = start_worker(process_env(runtime, tmp_path), "form")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output.decode(errors="replace")[-3000:]


def api(client, path):
    response = client.get(path, headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_form_submission_becomes_a_ticket_and_its_token_never_threads(runtime, api_keys,
                                                                       tmp_path):
    client = create_app(runtime).test_client()
    response = client.post("/contact/demo", data={
        **ALICE, "attachments": [(io.BytesIO(PNG), "shot.png", "image/png")]})
    assert response.status_code == 303
    run_form_worker(runtime, tmp_path)
    [ticket] = api(client, "/api/v1/tickets")["tickets"]
    assert ticket["channel"] == "form" and ticket["subject"] == "Printer on fire"
    assert ticket["customer"]["email"] == "alice@customer.test"
    [message] = api(client, f"/api/v1/tickets/{ticket['number']}")["messages"]
    assert message["text"] == message["reply_text"] == "Please send help."
    assert [(a["filename"], a["content_type"], a["size"]) for a in message["attachments"]] == [
        ("shot.png", "image/png", len(PNG))]
    assert runtime.blobs.get(message["attachments"][0]["sha256"]) == PNG

    number = ticket["number"]
    follow_up = {**ALICE, "subject": f"Re: [#{number}] Printer on fire", "message": "Still on."}
    stranger = {**follow_up, "email": "mallory@evil.test", "message": "Let me in."}
    assert client.post("/contact/demo", json=follow_up).status_code == 202
    assert client.post("/contact/demo", json=stranger).status_code == 202
    run_form_worker(runtime, tmp_path)
    tickets = api(client, "/api/v1/tickets")["tickets"]
    # A form's address is unproven, so its [#N] opens a new ticket even from the customer.
    assert [t["message_count"] for t in tickets] == [1, 1, 1]
    assert api(client, f"/api/v1/tickets/{number}")["message_count"] == 1


def test_double_submit_is_one_message(runtime, api_keys, tmp_path):
    client = create_app(runtime).test_client()
    page = client.get("/contact/demo").get_data(as_text=True)
    sid = re.search(r'name="submission_id" value="([^"]+)"', page).group(1)
    for _ in range(3):
        assert client.post("/contact/demo", data={**ALICE, "submission_id": sid}).status_code == 303
    run_form_worker(runtime, tmp_path)
    [ticket] = api(client, "/api/v1/tickets")["tickets"]
    assert ticket["message_count"] == 1
