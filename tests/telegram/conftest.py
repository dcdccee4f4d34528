"""Fixtures of the Telegram tests: a fake Bot API server and a workspace file with bots on it."""
from __future__ import annotations

import copy

import pytest

from config.workspaces import parse_config
from gateway.web import create_app
from tests.conftest import TEST_CONFIG
from tests.telegram.fake_bot_api import FakeBotApi
from workers.ingest import telegram as channel_telegram

TOKEN = "7000001:AAH-test-token_for_the_fake"
SECRET = "webhook-secret_0123456789"
ACME_SECRET = "acme-secret-9876543210"
GREETING = "Hi! Ask us anything, we answer here."


@pytest.fixture
def fake_api():
    api = FakeBotApi(TOKEN).start()
    yield api
    api.stop()
    channel_telegram.RUNNER.reset()


@pytest.fixture
def telegram_env(monkeypatch):
    monkeypatch.setenv("TG_TEST_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TG_TEST_TELEGRAM_SECRET", SECRET)
    monkeypatch.setenv("TG_TEST_ACME_SECRET", ACME_SECRET)


def bot(name: str, fake: FakeBotApi, **fields) -> dict:
    return {"name": name, "token_env": "TG_TEST_TELEGRAM_TOKEN", "base_url": fake.base_url,
            "base_file_url": fake.base_file_url, "greeting": GREETING, **fields}


def telegram_config(fake: FakeBotApi, demo_bots=None, conversation=None):
    data = copy.deepcopy(TEST_CONFIG)
    demo, acme = data["workspaces"]
    demo["channels"] = {"telegram": demo_bots if demo_bots is not None else [
        bot("support", fake, secret_env="TG_TEST_TELEGRAM_SECRET"),
        bot("poller", fake, mode="polling")]}
    if conversation:
        demo["channels"]["conversation"] = conversation
    acme["channels"] = {"telegram": [bot("support", fake, secret_env="TG_TEST_ACME_SECRET")]}
    return parse_config(data)


@pytest.fixture
def test_config(fake_api, telegram_env):
    """Overrides the suite's workspace file: demo has bots support (webhook) and poller."""
    return telegram_config(fake_api)


@pytest.fixture
def client(sqlite_runtime):
    return create_app(sqlite_runtime).test_client()
