"""End to end with real processes: provider posts -> edge -> Redis -> RQ worker -> store -> API."""
from __future__ import annotations

import hashlib

import pytest

from gateway.web import create_app
from tests.conftest import DEMO_KEY
from tests.inbound.fixtures import mailgun, postmark
from tests.inbound.fixtures.mail import File, customer_mail
from tests.inbound.posting import post_mailgun, post_postmark
from tests.integration.harness import process_env, run_workers

pytestmark = pytest.mark.integration
SCAN = File("scan.pdf", "application/pdf", b"%PDF-1.5\n" + bytes(range(256)) * 40)


def test_mailgun_mail_and_postmark_reply_become_one_ticket(runtime, api_keys, tmp_path):
    client = create_app(runtime).test_client()
    original = customer_mail(files=(SCAN,))
    assert post_mailgun(client, *mailgun.parsed_fields(original)).status_code == 200
    reply = customer_mail(subject="Re: Printer on fire", body="Here is more.",
                          in_reply_to=original["Message-ID"])
    assert post_postmark(client, postmark.inbound_json(reply)).status_code == 200
    run_workers(process_env(runtime, tmp_path))
    auth = {"Authorization": f"Bearer {DEMO_KEY}"}
    [ticket] = client.get("/api/v1/tickets", headers=auth).get_json()["tickets"]
    assert (ticket["subject"], ticket["message_count"]) == ("Printer on fire", 2)
    assert ticket["customer"]["email"] == "alice@customer.test"
    detail = client.get(f"/api/v1/tickets/{ticket['number']}", headers=auth).get_json()
    first, second = detail["messages"]
    assert first["attachments"][0]["sha256"] == hashlib.sha256(SCAN.data).hexdigest()
    assert runtime.blobs.get(first["attachments"][0]["sha256"]) == SCAN.data
    assert second["reply_text"].strip() == "Here is more."
