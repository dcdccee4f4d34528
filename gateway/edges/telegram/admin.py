"""Webhook set-up and diagnostics for the ``python -m gateway.edges.telegram`` commands.

``setup`` registers the webhook (setWebhook with the bot's secret token, only the update types
ticketgate reads), ``info`` reads getWebhookInfo and says in plain words what is wrong and what
to do, ``delete`` removes the webhook. Each returns the lines to print and whether all is well.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError, TelegramError

from config.channels import TelegramBot, secret
from clients.telegram import BotRunner, MissingToken
from gateway.edges.telegram.polling import ALLOWED_UPDATES

SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts
WEBHOOK_PORTS = (443, 80, 88, 8443)                     # the ports Telegram delivers to
PENDING_WARNING = 100
# Telegram's last_error_message (substring, lower case) -> what to do about it.
ADVICE = (
    ("ssl", "Telegram could not establish TLS with your URL: check the TLS certificate "
            "(a public CA with the full chain, matching the host name, not expired)"),
    ("certificate", "Telegram did not accept your TLS certificate: serve the full chain from "
                    "a public CA, or upload a self-signed certificate with setWebhook"),
    ("401", "ticketgate refused the secret token: the secret Telegram sends differs from the "
            "bot's secret_env; run setup again"),
    ("404", "nothing answers at that path: the URL must end with "
            "/hooks/telegram/<workspace>/<bot> and name a configured bot"),
    ("503", "ticketgate's queue (Redis) was unavailable; Telegram retries for up to a day, "
            "check that Redis is up"),
    ("wrong response", "your server answered with an error status: check the web process log"),
    ("timed out", "Telegram could not reach your URL in time: check DNS, the firewall and that "
                  "the web process is up and public"),
    ("timeout", "your server answered too slowly: check that the web process is up and not "
                "overloaded"),
    ("connection refused", "nothing listens at your URL: check the port (443, 80, 88 or 8443), "
                           "the reverse proxy and that the web process runs"),
    ("resolve", "Telegram could not resolve your host name: check the DNS record"),
    ("no route", "Telegram could not reach your host: check the firewall and public IP"),
)


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def say(self, line: str) -> None:
        self.lines.append(line)

    def problem(self, line: str) -> None:
        self.ok = False
        self.lines.append("PROBLEM: " + line)


def expected_path(workspace: str, bot: str) -> str:
    return f"/hooks/telegram/{workspace}/{bot}"


def advice_for(message: str) -> str:
    lowered = message.lower()
    return next((text for needle, text in ADVICE if needle in lowered),
                "see the message above; Telegram retries failed deliveries for up to a day")


def setup(workspace: str, bot: TelegramBot, url: str, drop_pending: bool = False) -> Report:
    report = Report()
    check_setup(workspace, bot, url, report)
    if not report.ok:
        return report
    run(bot, report, lambda b: b.set_webhook(
        url=url, secret_token=secret(bot.secret_env), allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=drop_pending))
    if report.ok:
        report.say(f"webhook registered: Telegram now posts updates of bot {bot.name!r} to {url}")
        describe(workspace, bot, report)
    return report


def check_setup(workspace: str, bot: TelegramBot, url: str, report: Report) -> None:
    if bot.mode != "webhook":
        report.problem(f"bot {bot.name!r} has mode: {bot.mode}; set mode: webhook first "
                       "(Telegram delivers either to a webhook or to getUpdates, never both)")
    if not SECRET_TOKEN.match(secret(bot.secret_env)):
        report.problem(f"the environment variable {bot.secret_env or '(secret_env)'} must hold "
                       "the secret token: 1-256 characters of A-Z, a-z, 0-9, '_' and '-'")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        report.problem(f"{url!r} is not an https:// URL; Telegram delivers only over HTTPS")
    elif (parts.port or 443) not in WEBHOOK_PORTS:
        report.problem(f"port {parts.port} is not one Telegram delivers to (443, 80, 88, 8443)")
    if not parts.path.rstrip("/").endswith(expected_path(workspace, bot.name)):
        report.say(f"note: the URL path is not {expected_path(workspace, bot.name)}; fine only "
                   "if a proxy rewrites it to that path")


def info(workspace: str, bot: TelegramBot) -> Report:
    report = Report()
    describe(workspace, bot, report)
    return report


def describe(workspace: str, bot: TelegramBot, report: Report) -> None:
    result = run(bot, report, lambda b: _me_and_webhook(b))
    if result is None:
        return
    me, webhook = result
    report.say(f"bot @{me.username} (id {me.id}) = {workspace}/{bot.name}, mode: {bot.mode}")
    if not webhook.url:
        (report.say if bot.mode == "polling" else report.problem)(
            "no webhook is set" + (" (right for polling mode)" if bot.mode == "polling" else
                                   ": Telegram does not deliver anything; run setup"))
    else:
        _describe_webhook(workspace, bot, webhook, report)


async def _me_and_webhook(bot):
    return await bot.get_me(), await bot.get_webhook_info()


def _describe_webhook(workspace: str, bot: TelegramBot, webhook, report: Report) -> None:
    report.say(f"webhook URL: {webhook.url}")
    if bot.mode == "polling":
        report.problem("a webhook is set but the bot has mode: polling; the poller deletes it "
                       "when it starts, or run delete")
    if not urlsplit(webhook.url).path.rstrip("/").endswith(expected_path(workspace, bot.name)):
        report.say(f"note: the path is not {expected_path(workspace, bot.name)}")
    pending = webhook.pending_update_count or 0
    (report.problem if pending >= PENDING_WARNING else report.say)(
        f"updates waiting for delivery: {pending}")
    allowed = list(webhook.allowed_updates or ())
    if allowed and "message" not in allowed:
        report.problem(f"allowed updates {allowed} leave out messages; run setup again")
    if webhook.last_error_date:
        when = _ago(webhook.last_error_date)
        report.problem(f"last delivery failed {when}: {webhook.last_error_message!r}")
        report.say("advice: " + advice_for(webhook.last_error_message or ""))
    else:
        report.say("no delivery error reported")
    if webhook.last_synchronization_error_date:
        report.problem(f"Telegram's servers had a synchronization error "
                       f"{_ago(webhook.last_synchronization_error_date)} (on their side)")


def _ago(moment: datetime) -> str:
    minutes = int((datetime.now(timezone.utc) - moment).total_seconds() // 60)
    return f"at {moment:%Y-%m-%d %H:%M} UTC ({minutes} min ago)"


def delete(bot: TelegramBot, drop_pending: bool = False) -> Report:
    report = Report()
    if run(bot, report, lambda b: b.delete_webhook(drop_pending_updates=drop_pending)):
        report.say(f"webhook of bot {bot.name!r} deleted" +
                   (", pending updates dropped" if drop_pending else
                    "; pending updates stay for getUpdates"))
    return report


def run(bot: TelegramBot, report: Report, call):
    """``await call(Bot)``; failures become a problem in plain words (None is returned)."""
    runner = BotRunner()
    try:
        return runner.run(bot, call)
    except MissingToken as exc:
        report.problem(str(exc))
    except InvalidToken:
        report.problem(f"Telegram rejected the token in {bot.token_env}: copy it again from "
                       "@BotFather")
    except NetworkError as exc:
        report.problem(f"the Bot API at {bot.base_url} answered or failed with: {exc}")
    except TelegramError as exc:
        report.problem(f"Telegram refused: {exc}")
    finally:
        runner.reset()
    return None
