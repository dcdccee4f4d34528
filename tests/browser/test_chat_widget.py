"""The chat widget in headless Chromium (Playwright): type, send, see it, come back to it, see
the agent's answer (never a note), poll only while visible, back off on errors.

The package's fixtures (tests/browser/conftest.py) serve the real app with werkzeug on SQLite
and the real Redis and drive the system Chromium; queued messages are put through the real
ingest pipeline in-process; agents answer through the REST API over HTTP.
"""
from __future__ import annotations

import json

import pytest
import requests

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


POLL = "**/chat/demo/messages*"
REPLY_TEXT = 'Yes, it ships <b>today</b> <img src=x onerror="document.title=1">'


def agent(live_server, action: str, text: str) -> None:
    """An agent's reply or note to ticket 1, through the REST API over HTTP."""
    response = requests.post(live_server.url(f"/api/v1/tickets/1/{action}"), json={"text": text},
                             headers={"Authorization": "Bearer demo-test-key"}, timeout=10)
    assert response.status_code == 201, response.text


def polls(page) -> list[str]:
    """The URLs of the widget's polls (GET), recorded from now on."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if r.method == "GET"
            and "/chat/demo/messages" in r.url else None)
    return urls


def test_agent_answer_appears_as_text_and_notes_never_do(page, live_server, api_keys):
    page.goto(live_server.url("/chat/demo"))
    urls = polls(page)
    send(page, "Is my order on its way?")
    run_queue(live_server.runtime)
    agent(live_server, "notes", "internal: check the warehouse first")
    agent(live_server, "replies", REPLY_TEXT)
    log = page.get_by_role("log")
    answer = log.locator('li[data-direction="out"]')
    playwright_sync.expect(answer).to_have_count(1)  # within a poll interval, no reload
    assert answer.locator(".chat__text").inner_text() == REPLY_TEXT  # shown, not rendered
    assert log.locator("b, img").count() == 0 and page.title() == "Chat with Demo"
    assert "chat__msg--theirs" in answer.get_attribute("class")
    assert "chat__msg--mine" in log.locator('li[data-direction="in"]').get_attribute("class")
    agent(live_server, "replies", "Tracking number follows.")
    playwright_sync.expect(answer).to_have_count(2)
    playwright_sync.expect(log.locator("li")).to_have_count(3)  # nothing twice
    assert "warehouse" not in log.inner_text()
    assert any("since=" in url for url in urls)  # polls ask only for what is new


def hide(page, hidden: bool) -> None:
    page.evaluate("""hidden => {
        Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", hidden)


def test_polling_stops_while_hidden_and_catches_up_when_shown(page, live_server):
    page.clock.install()
    page.goto(live_server.url("/chat/demo"))
    send(page, "Anyone there?")
    urls = polls(page)
    with page.expect_request(POLL):
        page.clock.run_for(5_000)
    hide(page, True)
    page.clock.run_for(60_000)
    page.wait_for_timeout(300)  # any request a timer started has been seen by now
    seen_while_hidden = len(urls)
    assert seen_while_hidden == 1
    with page.expect_request(POLL):
        hide(page, False)  # shown again: polls at once, without waiting for a timer


def test_polling_backs_off_after_errors(page, live_server):
    """Polls answered 503 come 4 s after sending, then 8, 16, 32 s apart (a short Retry-After
    does not shorten the wait)."""
    page.clock.install()
    page.goto(live_server.url("/chat/demo"))
    page.route(POLL, lambda route: route.fulfill(status=503, headers={"Retry-After": "1"},
                                                 body="{}") if route.request.method == "GET"
               else route.continue_())
    send(page, "Hello?")
    urls, times = polls(page), []
    for second in range(1, 64):
        page.clock.run_for(1_000)
        page.wait_for_timeout(40)  # the poll's answer arrives and the next one is scheduled
        if len(urls) > len(times):
            times.append(second)
    assert times == [4, 12, 28, 60]
