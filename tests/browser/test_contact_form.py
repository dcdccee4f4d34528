"""The contact form in a real browser (headless Chromium): fill, attach, submit, see the receipt
and the ticket; see the validation messages with the typed values kept; embedded in an iframe."""
from __future__ import annotations

import re

import pytest

from tests.conftest import DEMO_KEY
from tests.integration.harness import process_env, start_worker

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def run_form_worker(runtime, tmp_path) -> None:
    worker = start_worker(process_env(runtime, tmp_path), "form")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output.decode(errors="replace")[-3000:]


def tickets(live_server) -> list[dict]:
    client = live_server.app.test_client()
    response = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 200
    return response.get_json()["tickets"]


def fill(target, name="Alice Liddell", email="alice@customer.test", subject="Printer on fire",
         message="It started smoking this morning."):
    target.get_by_label("Name").fill(name)
    target.get_by_label("Email address").fill(email)
    target.get_by_label("Subject").fill(subject)
    target.get_by_label("Message").fill(message)


def test_submit_with_attachment_shows_receipt_and_becomes_a_ticket(page, live_server, api_keys,
                                                                    tmp_path):
    page.goto(live_server.url("/contact/demo"))
    fill(page)
    page.set_input_files("#field-attachments", files=[
        {"name": "smoke.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url(re.compile(r"/contact/demo/thanks\?reference="))
    reference = page.locator("#reference").inner_text()
    assert re.fullmatch(r"[0-9A-F]{12}", reference)
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you, we have your message"

    run_form_worker(live_server.runtime, tmp_path)
    [ticket] = tickets(live_server)
    assert ticket["subject"] == "Printer on fire" and ticket["channel"] == "form"
    assert ticket["customer"]["email"] == "alice@customer.test"
    detail = live_server.app.test_client().get(
        f"/api/v1/tickets/{ticket['number']}", headers={"Authorization": f"Bearer {DEMO_KEY}"})
    [message] = detail.get_json()["messages"]
    assert message["text"] == "It started smoking this morning."
    assert [(a["filename"], a["size"]) for a in message["attachments"]] == [("smoke.png",
                                                                             len(PNG))]


def test_validation_errors_are_shown_with_the_typed_values(page, live_server):
    page.goto(live_server.url("/contact/demo"))
    fill(page, email="alice-at-customer", message="")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_selector(".error-summary")
    assert page.title().startswith("Error: ")
    summary = page.get_by_role("alert").inner_text()
    assert "Enter an email address like name@example.com." in summary
    assert "Enter a message." in summary
    assert page.input_value("#field-name") == "Alice Liddell"
    assert page.input_value("#field-email") == "alice-at-customer"
    assert page.input_value("#field-subject") == "Printer on fire"
    email = page.get_by_label("Email address")
    assert email.get_attribute("aria-invalid") == "true"
    assert "email-error" in email.get_attribute("aria-describedby")
    assert page.locator("#email-error").is_visible() and page.locator("#message-error").is_visible()
    assert not page.locator("#name-error").count()

    page.locator(".error-summary a[href='#field-message']").click()  # the summary links work
    assert page.evaluate("document.activeElement.id") == "field-message"
    page.get_by_label("Email address").fill("alice@customer.test")
    page.get_by_label("Message").fill("Now with a message.")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url(re.compile(r"/thanks\?reference="))
    assert len(tickets_queued(live_server)) == 1


def tickets_queued(live_server) -> list:
    from rq import Queue
    return Queue("form", connection=live_server.runtime.redis).jobs


def test_works_embedded_in_an_iframe_of_another_site(page, live_server):
    page.set_content(f'<h1>Shop</h1><iframe title="Contact" width="600" height="900" '
                     f'src="{live_server.url("/contact/demo")}"></iframe>')
    frame = page.frame_locator("iframe")
    fill(frame)
    frame.get_by_role("button", name="Send message").click()
    assert re.fullmatch(r"[0-9A-F]{12}", frame.locator("#reference").inner_text())
    assert len(tickets_queued(live_server)) == 1


def test_focus_is_visible_and_the_page_fits_a_small_screen(page, live_server):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(live_server.url("/contact/demo"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "field-name"  # the honeypot and hidden fields are skipped
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    box = page.locator("#field-website").bounding_box()  # the honeypot: off-screen for people
    assert box["x"] + box["width"] < 0
