"""Shared fixtures of the browser tests: the real web app on a free port and headless Chromium.

- ``live_runtime``: the ``Runtime`` the served app uses (SQLite + the test Redis db, the test
  workspace file). A test module may override this fixture to serve another configuration.
- ``live_server``: ``LiveServer(base_url, runtime, app)``, the app served by werkzeug in a
  thread on 127.0.0.1 and a free port; ``live_server.url("/contact/demo")`` builds URLs.
- ``browser`` (this package) and ``page`` (a fresh context per test): Playwright driving the system
  Chromium at /usr/bin/chromium; never downloads a browser. Every test here is skipped cleanly
  when that binary or the playwright package is missing.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.serving import make_server

from gateway.web import create_app
from queues.runtime import Runtime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000  # per Playwright action; a local page answers in milliseconds


@dataclass
class LiveServer:
    base_url: str
    runtime: Runtime
    app: Flask

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def live_runtime(sqlite_runtime) -> Runtime:
    return sqlite_runtime


@pytest.fixture
def live_server(live_runtime):
    app = create_app(live_runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", live_runtime, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="package")
def browser():
    """Chromium for the tests of this package only: Playwright's sync API keeps an asyncio loop
    running on the main thread while it is open, which would break later tests' asyncio.run."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
