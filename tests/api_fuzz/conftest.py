"""Fixtures of the HTTP fuzz tests: one app with every edge switched on, and rows to find.

Workspace ``demo`` has the contact form, chat (webhook and widget), a Telegram webhook bot and
all three inbound-parse providers, each with its secret in the environment, so that requests
get past authentication and reach the code that reads their bodies. Real Redis and SQLite.
"""
from __future__ import annotations

import copy

import pytest

from config.workspaces import parse_config
from gateway.web import create_app
from store import repo
from store.models import CannedResponse
from tests.conftest import DEMO_KEY, TEST_CONFIG
from tests.gateway.apifactory import add_customer, add_entry, add_message, add_ticket

SECRETS = {"TG_FUZZ_CHAT_SECRET": "chat-fuzz-secret", "TG_FUZZ_BOT_TOKEN": "7000001:fuzz",
           "TG_FUZZ_BOT_SECRET": "bot-fuzz-secret", "TG_FUZZ_MAILGUN_KEY": "mailgun-fuzz-key",
           "TG_FUZZ_USER": "inbound", "TG_FUZZ_PASSWORD": "inbound-fuzz-password"}
BASIC = {"user_env": "TG_FUZZ_USER", "password_env": "TG_FUZZ_PASSWORD"}
CHANNELS = {
    "form": {"per_ip_per_hour": 1_000_000, "per_email_per_hour": 1_000_000},
    "chat": {"secret_env": "TG_FUZZ_CHAT_SECRET", "widget_per_ip_per_hour": 1_000_000},
    "telegram": [{"name": "support", "token_env": "TG_FUZZ_BOT_TOKEN",
                  "secret_env": "TG_FUZZ_BOT_SECRET",
                  "base_url": "http://127.0.0.1:9/bot"}],  # never called by the edge
    "inbound": {"mailgun": {"signing_key_env": "TG_FUZZ_MAILGUN_KEY"}, "sendgrid": BASIC,
                "postmark": BASIC},
}
AGENT = {"id": "alice", "name": "Alice", "email": "alice@demo.test", "skills": {"billing": 3},
         "capacity": {"email": 5}, "status": "online"}


def fuzz_config():
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["channels"] = copy.deepcopy(CHANNELS)
    data["workspaces"][0]["routing"] = {"agents": [AGENT], "calendars": {"office": {
        "timezone": "Europe/Prague", "hours": {"mon": ["09:00-17:00"]}}}}
    return parse_config(data)


@pytest.fixture
def test_config():
    return fuzz_config()


@pytest.fixture
def edge_secrets(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


@pytest.fixture
def fuzz_app(sqlite_runtime, api_keys, edge_secrets):
    """The app with one ticket (number 1, with a message), customer 1, quarantine entry 1 and
    canned responses 1 and 2."""
    with sqlite_runtime.sessions.begin() as session:
        customer = add_customer(session, "demo", "Carla Customer", "carla@customer.test")
        ticket = add_ticket(session, customer_id=customer.id)
        add_message(session, ticket, "Hello")
        add_entry(session)
        add_canned(session)
    return create_app(sqlite_runtime)


def add_canned(session) -> None:
    """Canned responses 1 and 2 (2 is the one ``DELETE /canned/{id}`` is pointed at)."""
    workspace_id = repo.workspace_row(session, "demo").id
    for name in ("Greeting", "Goodbye"):
        session.add(CannedResponse(workspace_id=workspace_id, name=name, tags=["fuzz"],
                                   text=f"{name} {{customer.name}}, #{{ticket.number}}"))
    session.flush()


def bearer() -> dict:
    return {"Authorization": f"Bearer {DEMO_KEY}"}
