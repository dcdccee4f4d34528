"""The ops dashboard in a real browser (headless Chromium): log in with the token form, read a
day of work in accessible markup (landmarks, headings, captioned tables, labelled controls,
charts with text alternatives), replay a failed job and a quarantine entry with the buttons,
open the RQ pages, log out. Screenshots go to var/screenshots/ (looked at by a person)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import PROJECT_DIR
from gateway.web import create_app
from tests.ops.scenario import TOKEN, configure, day_of_work

SCREENSHOTS = Path(PROJECT_DIR) / "var" / "screenshots"


@pytest.fixture
def live_runtime(sqlite_runtime, api_keys):
    rt = configure(sqlite_runtime)
    day_of_work(rt, create_app(rt).test_client())
    return rt


@pytest.fixture
def errors(page):
    """Script and Content-Security-Policy errors of the page (answers such as the 401 of a
    wrong token or the 404 of /favicon.ico are expected and left out)."""
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)
    page.on("pageerror", lambda exc: found.append(str(exc)))
    return found


def log_in(page, live_server, token: str = TOKEN) -> None:
    page.goto(live_server.url("/ops"))
    page.wait_for_url(re.compile(r"/ops/login$"))
    page.get_by_label("Ops token").fill(token)
    page.get_by_role("button", name="Log in").click()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_log_in_read_the_day_and_replay_from_the_dashboard(page, live_server, errors):
    log_in(page, live_server, "wrong-token")
    assert page.get_by_role("alert").inner_text() == "That is not the ops token."
    page.get_by_label("Ops token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/ops/?$"))
    page.get_by_label("Refresh every 30 s").uncheck()  # no reload in the middle of the test
    assert page.get_by_role("heading", level=1).inner_text() == "Operations"
    for role in ("banner", "main", "contentinfo"):
        assert page.get_by_role(role).count() == 1
    assert page.get_by_role("navigation", name="Sections").is_visible()
    queues = page.get_by_role("table", name=re.compile("^Every RQ queue"))
    assert queues.get_by_role("columnheader", name="Failed jobs").is_visible()
    assert queues.get_by_role("row", name=re.compile(r"^email 4 ")).is_visible()
    assert page.get_by_role("img", name="Queue wait per hour").is_visible()
    assert page.get_by_role("img", name="Fairness per hour in demo").is_visible()
    screenshot(page, "ops-dashboard.png")

    page.get_by_role("button", name=re.compile(r"^Replay job .* of queue email$")).click()
    assert page.get_by_role("status").inner_text() == "The failed job is queued again."
    assert page.get_by_text("No failed jobs.").is_visible()
    page.get_by_role("button", name=re.compile(r"^Replay quarantine entry \d+$")).first.click()
    assert page.get_by_role("status").inner_text() == "The quarantine entry is queued again."
    assert page.get_by_role("heading", name=re.compile(r"^automatic ")).count() == 0
    assert errors == []


def test_the_markup_names_every_control_and_chart(page, live_server, errors):
    log_in(page, live_server)
    page.wait_for_url(re.compile(r"/ops/?$"))
    unnamed = page.evaluate("""() => [
        ...[...document.querySelectorAll('button')].filter(b => !b.innerText.trim()),
        ...[...document.querySelectorAll('input:not([type=hidden])')]
            .filter(i => i.labels.length === 0),
        ...[...document.querySelectorAll('svg[role=img]')]
            .filter(s => !s.getAttribute('aria-labelledby')),
        ...[...document.querySelectorAll('table')]
            .filter(t => !t.caption && !t.getAttribute('aria-labelledby')
                         && !t.closest('details')),
        ...[...document.querySelectorAll('th')].filter(h => !h.getAttribute('scope')),
    ].map(e => e.outerHTML.slice(0, 120))""")
    assert unnamed == []
    levels = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3')]"
                           ".map(h => Number(h.tagName[1]))")
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:]))
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.innerText") == "Skip to the content"
    assert errors == []


def test_the_refresh_choice_is_remembered(page, live_server):
    log_in(page, live_server)
    box = page.get_by_label("Refresh every 30 s")
    assert box.is_checked()
    box.uncheck()
    page.reload()
    assert not page.get_by_label("Refresh every 30 s").is_checked()


def test_the_rq_pages_open_behind_the_same_login_and_logout_closes_both(page, live_server):
    log_in(page, live_server)
    page.get_by_role("link", name="RQ pages").click()
    page.wait_for_url(re.compile(r"/ops/rq/$"))
    page.get_by_role("cell", name="email", exact=True).wait_for()  # drawn by its script
    assert page.get_by_role("link", name="Workers").is_visible()
    screenshot(page, "ops-rq-pages.png")
    page.go_back()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/ops/login\?notice=logged_out$"))
    assert page.get_by_role("status").inner_text() == "You are logged out."
    page.goto(live_server.url("/ops/rq/"))
    page.wait_for_url(re.compile(r"/ops/login$"))
