"""Polling mode: ``python -m gateway.edges.telegram.polling`` (the Procfile's ``telegram_polling``).

For every bot with ``mode: polling`` in any workspace, one task long-polls getUpdates and makes
each batch durable on the ``telegram`` queue (one Redis transaction) before it moves the offset
past it. Telegram forgets an update only when a later getUpdates names a higher offset, so an
update is confirmed only once it is in Redis: a crash or a Redis outage means it is fetched again
(at-least-once; the edge's update_id guard and the worker's dedupe key make that harmless).

getUpdates goes through python-telegram-bot's ``Bot.do_api_request`` so the raw update JSON is
what gets queued (``get_updates`` would hand back parsed objects). A bot in polling mode cannot
have a webhook, so each session starts with deleteWebhook (as PTB's own ``run_polling`` does).
Network errors, flood control and a dead Redis back off and retry; a bad token is logged and
retried slowly. With no polling bot the process stays up idle (honcho stops every process when
one exits). SIGTERM/SIGINT stop it after the batch in hand is enqueued and confirmed.
"""
from __future__ import annotations

import asyncio
import json
import logging
import signal
import warnings
from datetime import timedelta

from redis import Redis
from redis.exceptions import RedisError
from telegram.error import Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from config.channels import TelegramBot
from queues.intake import Intake, IntakeUnavailable
from gateway.edges.telegram import updates
from clients.telegram import READ_TIMEOUT_S, MissingToken, make_bot

log = logging.getLogger("gateway.edges.telegram.polling")
POLL_TIMEOUT_S = 30          # long-poll wait of one getUpdates
BATCH_LIMIT = 100            # updates per getUpdates (the Bot API maximum)
BACKOFF_S = (1, 2, 5, 10, 30, 60)
BAD_TOKEN_WAIT_S = 300       # a rejected or missing token: check again this often
ALLOWED_UPDATES = ["message", "edited_message"]
REDIS_TIMEOUT_S = 5
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'",
                        category=PTBUserWarning)


class Poller:
    """Long polling of one bot; ``offset`` is the first update_id not yet durably enqueued."""

    def __init__(self, workspace: str, config: TelegramBot, intake: Intake,
                 poll_timeout: float = POLL_TIMEOUT_S):
        self.workspace, self.config, self.intake = workspace, config, intake
        self.poll_timeout = poll_timeout
        self.offset: int | None = None
        self.failures = 0
        self.name = f"{workspace}/{config.name}"

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.session(stop)
            except Exception as exc:  # noqa: BLE001 - every failure waits and retries
                await _sleep(self.wait_after(exc), stop)

    async def session(self, stop: asyncio.Event) -> None:
        async with make_bot(self.config) as bot:
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("%s: polling getUpdates", self.name)
            while not stop.is_set():
                batch = await _until(self.fetch(bot), stop)
                if batch is None:
                    break
                await asyncio.to_thread(self.accept, batch)
                self.failures = 0
            await self.confirm(bot)

    async def fetch(self, bot, timeout: float | None = None) -> list[dict]:
        """One getUpdates call (raw JSON); naming ``offset`` confirms everything before it."""
        timeout = self.poll_timeout if timeout is None else timeout
        kwargs = {"timeout": timeout, "limit": BATCH_LIMIT, "allowed_updates": ALLOWED_UPDATES}
        if self.offset is not None:
            kwargs["offset"] = self.offset
        result = await bot.do_api_request("getUpdates", api_kwargs=kwargs,
                                          read_timeout=READ_TIMEOUT_S + timeout)
        return [u for u in result if updates.update_id_of(u) is not None]

    def accept(self, batch: list[dict]) -> int:
        """Enqueue the updates not accepted before, then move the offset past the batch."""
        if not batch:
            return 0
        redis = self.intake.redis
        ids = [updates.update_id_of(u) for u in batch]
        fresh = [(i, u) for i, u in zip(ids, batch)
                 if not updates.already_accepted(redis, self.workspace, self.config.name, i)]
        if fresh:
            self.intake.accept_many([
                updates.submission(self.workspace, self.config.name, _raw(u), i)
                for i, u in fresh])
            try:
                updates.mark_accepted(redis, self.workspace, self.config.name,
                                      [i for i, _ in fresh])
            except RedisError:
                pass  # enqueued; only the shortcut for a refetch is lost
        self.offset = max(ids) + 1
        log.info("%s: %d update(s) enqueued, offset %d", self.name, len(fresh), self.offset)
        return len(fresh)

    async def confirm(self, bot) -> None:
        """Tell Telegram about the last enqueued batch before stopping (best effort)."""
        if self.offset is None:
            return
        try:
            await self.fetch(bot, timeout=0)
        except TelegramError as exc:
            log.warning("%s: could not confirm offset %s: %s", self.name, self.offset, exc)

    def wait_after(self, exc: Exception) -> float:
        if isinstance(exc, RetryAfter):
            delay = exc.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
            log.warning("%s: flood control, waiting %.0f s", self.name, seconds)
            return seconds
        if isinstance(exc, (InvalidToken, Forbidden, MissingToken)):
            log.error("%s: the bot token is missing or rejected: %s", self.name, exc)
            return BAD_TOKEN_WAIT_S
        delay = BACKOFF_S[min(self.failures, len(BACKOFF_S) - 1)]
        self.failures += 1
        kind = "Redis" if isinstance(exc, (IntakeUnavailable, RedisError)) else "Telegram"
        log.warning("%s: %s error (%s: %s), retrying in %s s", self.name, kind,
                    type(exc).__name__, exc, delay)
        return delay


def _raw(update: dict) -> bytes:
    return json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()


async def _until(coroutine, stop: asyncio.Event):
    """The coroutine's result, or None when ``stop`` is set first (the call is cancelled)."""
    task = asyncio.ensure_future(coroutine)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        stopper.cancel()
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


def polling_bots(config) -> list[tuple[str, TelegramBot]]:
    return [(w.slug, bot) for w in config.workspaces for bot in w.channels.telegram
            if bot.mode == "polling"]


async def serve(config, intake: Intake, stop: asyncio.Event | None = None,
                poll_timeout: float = POLL_TIMEOUT_S) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pollers = [Poller(ws, bot, intake, poll_timeout) for ws, bot in polling_bots(config)]
    if pollers:
        log.info("polling %d bot(s): %s", len(pollers), ", ".join(p.name for p in pollers))
    else:
        log.info("no Telegram bot has mode: polling; staying idle until stopped")
    await asyncio.gather(stop.wait(), *(p.run(stop) for p in pollers))
    log.info("stopped")


def main() -> None:
    from config.logs import configure_logging
    from config.settings import load_settings
    from config.workspaces import load_config

    configure_logging("telegram_polling")  # httpx quiet: a line per long poll otherwise
    settings = load_settings()
    intake = Intake(Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_S,
                                   socket_connect_timeout=REDIS_TIMEOUT_S))
    asyncio.run(serve(load_config(settings.config_path), intake))


if __name__ == "__main__":
    main()
