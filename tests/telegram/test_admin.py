"""``python -m gateway.edges.telegram setup|info|delete`` against the fake Bot API."""
from __future__ import annotations

import time

import pytest
import yaml

from gateway.edges.telegram import __main__ as cli
from gateway.edges.telegram import admin
from tests.telegram.conftest import SECRET

URL = "https://support.example.com/hooks/telegram/demo/support"


@pytest.fixture
def run(test_config, tmp_path, monkeypatch, capsys):
    config_file = tmp_path / "workspaces.yaml"
    config_file.write_text(yaml.safe_dump(test_config.model_dump(mode="json")))
    monkeypatch.setenv("TICKETGATE_CONFIG", str(config_file))

    def invoke(*argv) -> tuple[int, str]:
        status = cli.main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out + captured.err
    return invoke


def test_setup_registers_the_webhook_with_secret_and_update_types(run, fake_api):
    status, output = run("setup", "demo", "support", "--url", URL)
    assert status == 0, output
    [call] = fake_api.called("setWebhook")
    assert call["url"] == URL and call["secret_token"] == SECRET
    assert call["allowed_updates"] == ["message", "edited_message"]
    assert "webhook registered" in output and f"webhook URL: {URL}" in output
    assert "bot @acme_support_bot" in output and "no delivery error reported" in output


@pytest.mark.parametrize("url, problem", [
    ("http://support.example.com/hooks/telegram/demo/support", "not an https:// URL"),
    ("https://support.example.com:9000/hooks/telegram/demo/support", "port 9000"),
])
def test_setup_refuses_urls_telegram_cannot_use(run, fake_api, url, problem):
    status, output = run("setup", "demo", "support", "--url", url)
    assert status == 1 and problem in output
    assert fake_api.called("setWebhook") == []


def test_setup_refuses_a_polling_bot_and_a_missing_secret(run, fake_api, monkeypatch):
    status, output = run("setup", "demo", "poller", "--url", URL)
    assert status == 1 and "mode: polling" in output
    monkeypatch.delenv("TG_TEST_TELEGRAM_SECRET")
    status, output = run("setup", "demo", "support", "--url", URL)
    assert status == 1 and "TG_TEST_TELEGRAM_SECRET must hold the secret token" in output
    assert fake_api.called("setWebhook") == []


def test_setup_notes_a_url_with_another_path(run, fake_api):
    status, output = run("setup", "demo", "support", "--url", "https://x.example/tg")
    assert status == 0 and "note: the URL path is not /hooks/telegram/demo/support" in output


def test_info_without_webhook_says_what_to_do(run, fake_api):
    status, output = run("info", "demo", "support")
    assert status == 1 and "no webhook is set" in output and "run setup" in output


def test_info_explains_the_last_error(run, fake_api):
    fake_api.webhook.update(url=URL, last_error_date=int(time.time()) - 600,
                            last_error_message="SSL error {error:0A000086:SSL routines::"
                                               "certificate verify failed}",
                            allowed_updates=["message", "edited_message"])
    fake_api.updates.extend({"update_id": i} for i in range(3))
    status, output = run("info", "demo", "support")
    assert status == 1
    assert "updates waiting for delivery: 3" in output
    assert "last delivery failed" in output and "(10 min ago)" in output
    assert "check the TLS certificate" in output


@pytest.mark.parametrize("message, advice", [
    ("Wrong response from the webhook: 401 Unauthorized", "secret token"),
    ("Wrong response from the webhook: 503 Service Unavailable", "Redis"),
    ("Connection timed out", "could not reach your URL"),
    ("Failed to resolve host: Name or service not known", "DNS"),
    ("Connection refused", "nothing listens"),
])
def test_advice_for_telegram_errors(message, advice):
    assert advice in admin.advice_for(message)


def test_info_on_a_polling_bot_with_a_webhook_is_a_problem(run, fake_api):
    fake_api.webhook["url"] = URL
    status, output = run("info", "demo", "poller")
    assert status == 1 and "the poller deletes it" in output


def test_delete_removes_the_webhook(run, fake_api):
    fake_api.webhook["url"] = URL
    status, output = run("delete", "demo", "support")
    assert status == 0 and "deleted" in output and fake_api.webhook["url"] == ""


def test_unknown_bot_and_bad_token(run, fake_api, monkeypatch):
    assert run("info", "demo", "nobot")[0] == 2
    assert run("info", "nowhere", "support")[0] == 2
    monkeypatch.setenv("TG_TEST_TELEGRAM_TOKEN", "1:wrong")
    status, output = run("info", "demo", "support")
    assert status == 1 and "Telegram rejected the token" in output
    monkeypatch.delenv("TG_TEST_TELEGRAM_TOKEN")
    status, output = run("info", "demo", "support")
    assert status == 1 and "TG_TEST_TELEGRAM_TOKEN" in output and "not set" in output
