"""The chat widget in headless Chromium (Playwright): type, send, see it, come back to it.

A real web server (werkzeug, in a thread) serves the real app on SQLite and the real Redis;
queued messages are put through the real ingest pipeline in-process. The system Chromium is
used; no browser is ever downloaded.
"""
from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from gateway.web import create_app
from tests.gateway.test_chat_webhook import CHAT_SECRET, SECRET_ENV, chat_config, queued
from tests.gateway.test_chat_widget import run_queue

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def test_config():
    return chat_config(widget_title="Chat with Demo")


@pytest.fixture
def chat_server(sqlite_runtime, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, CHAT_SECRET)
    server = make_server("127.0.0.1", 0, create_app(sqlite_runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def chat_page():
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(10_000)
        yield page
        browser.close()


def send(page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")
    page.get_by_role("status").filter(has_text="Sent.").wait_for()


def test_visitor_sends_messages_and_sees_them_again_after_reload(chat_page, chat_server,
                                                                 sqlite_runtime):
    page = chat_page
    page.goto(f"{chat_server}/chat/demo")
    assert page.title() == "Chat with Demo"
    send(page, "Hello from the browser")
    log = page.get_by_role("log")
    playwright_sync.expect(log).to_contain_text("Hello from the browser")
    assert page.get_by_label("Message").input_value() == ""
    send(page, "A second line\nof text")
    first, second = [json.loads(raw) for raw in queued(sqlite_runtime)]
    assert first["text"] == "Hello from the browser" and second["text"] == "A second line\nof text"
    assert first["conversation_id"] == second["conversation_id"]
    run_queue(sqlite_runtime)  # what the chat worker does
    page.reload()
    playwright_sync.expect(log.locator("li")).to_have_count(2)
    playwright_sync.expect(log).to_contain_text("Hello from the browser")


def test_invalid_email_is_shown_next_to_its_field(chat_page, chat_server, sqlite_runtime):
    page = chat_page
    page.goto(f"{chat_server}/chat/demo")
    page.get_by_text("Your name and email (optional)").click()
    page.get_by_label("Name").fill("Vera")
    page.get_by_label("Email, so we can also answer by mail").fill("not-an-address")
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("button", name="Send").click()
    error = page.locator("#chat-email-error")
    playwright_sync.expect(error).to_contain_text("email address")
    assert page.get_by_label("Email, so we can also answer by mail").get_attribute(
        "aria-invalid") == "true"
    assert queued(sqlite_runtime) == []


def test_empty_message_is_not_sent(chat_page, chat_server, sqlite_runtime):
    page = chat_page
    page.goto(f"{chat_server}/chat/demo")
    page.get_by_role("button", name="Send").click()
    playwright_sync.expect(page.locator("#chat-text-error")).to_have_text("Write a message first.")
    assert queued(sqlite_runtime) == []
