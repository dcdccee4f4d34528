"""The chat widget in headless Chromium (Playwright): type, send, see it, come back to it.

The package's fixtures (tests/browser/conftest.py) serve the real app with werkzeug on SQLite
and the real Redis and drive the system Chromium; queued messages are put through the real
ingest pipeline in-process.
"""
from __future__ import annotations

import json

import pytest

from tests.gateway.test_chat_webhook import CHAT_SECRET, SECRET_ENV, chat_config, queued
from tests.gateway.test_chat_widget import run_queue

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def test_config():
    return chat_config(widget_title="Chat with Demo")


@pytest.fixture(autouse=True)
def chat_secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, CHAT_SECRET)


def send(page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")
    page.get_by_role("status").filter(has_text="Sent.").wait_for()


def test_visitor_sends_messages_and_sees_them_again_after_reload(page, live_server):
    runtime = live_server.runtime
    page.goto(live_server.url("/chat/demo"))
    assert page.title() == "Chat with Demo"
    send(page, "Hello from the browser")
    log = page.get_by_role("log")
    playwright_sync.expect(log).to_contain_text("Hello from the browser")
    assert page.get_by_label("Message").input_value() == ""
    send(page, "A second line\nof text")
    first, second = [json.loads(raw) for raw in queued(runtime)]
    assert first["text"] == "Hello from the browser" and second["text"] == "A second line\nof text"
    assert first["conversation_id"] == second["conversation_id"]
    run_queue(runtime)  # what the chat worker does
    page.reload()
    playwright_sync.expect(log.locator("li")).to_have_count(2)
    playwright_sync.expect(log).to_contain_text("Hello from the browser")


def test_invalid_email_is_shown_next_to_its_field(page, live_server):
    page.goto(live_server.url("/chat/demo"))
    page.get_by_text("Your name and email (optional)").click()
    page.get_by_label("Name").fill("Vera")
    page.get_by_label("Email, so we can also answer by mail").fill("not-an-address")
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("button", name="Send").click()
    error = page.locator("#chat-email-error")
    playwright_sync.expect(error).to_contain_text("email address")
    assert page.get_by_label("Email, so we can also answer by mail").get_attribute(
        "aria-invalid") == "true"
    assert queued(live_server.runtime) == []


def test_empty_message_is_not_sent(page, live_server):
    page.goto(live_server.url("/chat/demo"))
    page.get_by_role("button", name="Send").click()
    playwright_sync.expect(page.locator("#chat-text-error")).to_have_text("Write a message first.")
    assert queued(live_server.runtime) == []
