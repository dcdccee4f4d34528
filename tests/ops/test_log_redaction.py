"""No secret reaches a log line: the shared logging setup (config.logs) on tricky strings, on the
Telegram worker path in-process (every library logging at DEBUG) and in a real worker process."""
from __future__ import annotations

import logging
import time

import pytest

from config.logs import QUIET_LOGGERS, RedactingFilter, configure_logging, redact, secret_values
from gateway.web import create_app
from tests.integration.harness import process_env, start_worker
from tests.telegram import updates as tg
from tests.telegram.conftest import TOKEN, fake_api, telegram_env, test_config  # noqa: F401
from tests.telegram.test_webhook import post
from tests.telegram.test_worker import PHOTO, deliver

SECRET_PART = TOKEN.split(":")[1]


@pytest.mark.parametrize("line, secret", [
    ('HTTP Request: POST http://127.0.0.1:5/bot7000001:AAH-test-token_for_the_fake/getFile '
     '"HTTP/1.1 200 OK"', "AAH-test-token_for_the_fake"),
    ("GET /file/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/photos/a.jpg",
     "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    ("GET http://127.0.0.1:5/file/bot7000001%3AAAH-test-token_for_the_fake/photos/a.jpg",
     "AAH-test-token_for_the_fake"),
    ("bare token 110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw.",
     "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    ("headers={'Authorization': 'Bearer abc.DEF-123_x'}", "abc.DEF-123_x"),
    ("authorization: Token s3cr3t-value", "s3cr3t-value"),
    ("curl -H 'Authorization: bearer K3yK3yK3y'", "K3yK3yK3y"),
    ("relay smtp://mailer:p%40ss-w0rd@mail.example.com:587 refused", "p%40ss-w0rd"),
    ("redis://:hunter2hunter@127.0.0.1:6379/0", "hunter2hunter"),
    ("X-Telegram-Bot-Api-Secret-Token: webhook-secret_0123456789", "webhook-secret_0123456789"),
    ("setWebhook url=https://x.test/hook secret_token=abcdEFGH_123&max=1", "abcdEFGH_123"),
    ('{"api_key": "tg_live_123456", "password":"pw-9"}', "tg_live_123456"),
    ('{"api_key": "tg_live_123456", "password":"pw-9"}', "pw-9"),
    ("TICKETGATE_API_KEY=Zx9-secret-key ok", "Zx9-secret-key"),
])
def test_secrets_in_tricky_strings_are_masked(line, secret):
    masked = redact(line)
    assert secret not in masked and "***" in masked


@pytest.mark.parametrize("line", [
    "http://host:8000/path@x and 12:30:45 and ticket 12345 of demo",
    "job rq:job:5f1d2c3e-aaaa-bbbb-cccc-111122223333 started on email",
    "stored message <tg.abc@demo.test> in ticket #17 (created)",
])
def test_ordinary_lines_are_left_alone(line):
    assert redact(line) == line


@pytest.mark.parametrize("hostile", ["1" * 200_000, "a-" * 100_000, "a://" * 50_000,
                                     "x://" + "a" * 100_000 + ":" + "b" * 100_000,
                                     "bearer " * 30_000, "token=" * 30_000])
def test_masking_is_linear_on_hostile_text(hostile):
    started = time.process_time()
    redact(hostile)
    assert time.process_time() - started < 1.0  # about 0.1 s; a quadratic pattern takes minutes


def test_secret_values_come_from_variables_named_like_secrets():
    env = {"BOT_TOKEN": "tok-value-123", "TICKETGATE_SIGNING_KEY": "new-key-1234, old-key-1234",
           "DB_PASSWORD": "short", "SMTP_TLS_KEY": "/etc/ssl/key.pem", "PORT": "8000000000",
           "HOME": "/root/secret-home"}
    assert set(secret_values(env)) == {"tok-value-123", "new-key-1234", "old-key-1234"}


def test_the_values_of_secret_environment_variables_are_masked():
    redaction = RedactingFilter(("plain-words-secret", "k2"))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key is %s, not %s", (
        "plain-words-secret", "k1"), None)
    assert redaction.filter(record) and record.getMessage() == "key is ***, not k1"


def test_tracebacks_are_masked_too(caplog):
    configure_logging("test", environ={})
    url = "POST https://api.telegram.org/bot123456:" + "A" * 35 + "/sendMessage"
    try:
        raise ConnectionError(url)
    except ConnectionError:
        logging.getLogger("ticketgate.test").exception("failed for %s", "bot123456:" + "B" * 35)
    assert "A" * 35 not in caplog.text and "B" * 35 not in caplog.text
    assert "bot123456:***/sendMessage" in caplog.text


def test_configure_logging_quiets_http_clients_and_masks_every_handler():
    access = logging.getLogger("gunicorn.access.test")  # a logger with its own handler
    handler = logging.NullHandler()
    access.addHandler(handler)
    try:
        configure_logging("test", environ={"SOME_TOKEN": "tok-value-123"})
        assert all(logging.getLogger(name).level == logging.WARNING for name in QUIET_LOGGERS)
        [redaction] = [f for f in handler.filters if isinstance(f, RedactingFilter)]
        configure_logging("test", environ={})
        assert redaction not in handler.filters and len(handler.filters) == 1
    finally:
        access.removeHandler(handler)


def test_telegram_worker_path_never_logs_the_bot_token(sqlite_runtime, fake_api, caplog):
    """Every library at DEBUG (httpx logs each Bot API URL): the token's secret never shows."""
    configure_logging("worker")
    caplog.set_level(logging.DEBUG)
    for name in QUIET_LOGGERS + ("telegram", "werkzeug"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake_api.add_file("AgACAgIAAxkBAAIBZ2Zl-large", PHOTO)
    assert deliver(sqlite_runtime, tg.message(1, 1, "/start")) == "ignored"
    assert deliver(sqlite_runtime, tg.photo(2, 12)) == "created"
    assert fake_api.called("getFile") and fake_api.sent  # the Bot API was called, with the token
    assert "HTTP Request: POST" in caplog.text and "/bot***/getFile" in caplog.text  # masked
    assert SECRET_PART not in caplog.text


def test_a_worker_process_never_prints_the_bot_token(sqlite_runtime, fake_api, tmp_path):
    client = create_app(sqlite_runtime).test_client()
    fake_api.add_file("AgACAgIAAxkBAAIBZ2Zl-large", PHOTO)
    fake_api.failures.append(("sendMessage", 403, "Forbidden: bot was blocked by the user"))
    for update in (tg.message(80001, 1, "/start"), tg.photo(80002, 2)):
        assert post(client, update).get_json()["status"] == "accepted"
    worker = start_worker(process_env(sqlite_runtime, tmp_path), "telegram")
    output = worker.communicate(timeout=60)[0].decode(errors="replace")
    assert worker.returncode == 0, output[-3000:]
    assert fake_api.called("getFile") and "greeting not sent" in output
    assert SECRET_PART not in output
