"""Talking to the Bot API through python-telegram-bot: building a ``Bot`` from a configured bot,
and running its coroutines from synchronous code (RQ jobs, commands).

``BotRunner`` keeps one event loop (in its own thread) and the initialized ``Bot`` of each
configured bot for the life of the process: ``Bot.initialize`` calls getMe, so a worker pays that round trip once per
bot instead of once per job, and the HTTP connection is reused. Only jobs that download a file
or answer ``/start`` touch the network at all.
"""
from __future__ import annotations

import asyncio
import os
import threading

from telegram import Bot
from telegram.request import HTTPXRequest

from config.channels import TelegramBot, secret

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0     # per read; a 20 MB file download is many reads
SHUTDOWN_TIMEOUT_S = 5.0


class MissingToken(LookupError):
    """The environment variable that should hold the bot's token is not set."""


def token_of(config: TelegramBot) -> str:
    token = secret(config.token_env)
    if not token:
        raise MissingToken(f"the environment variable {config.token_env or '(token_env)'} "
                           f"holding the token of bot {config.name!r} is not set")
    return token


def make_bot(config: TelegramBot) -> Bot:
    """A ``Bot`` for ``config`` (its token from the environment, its Bot API URLs)."""
    def request() -> HTTPXRequest:
        return HTTPXRequest(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                            write_timeout=READ_TIMEOUT_S)
    return Bot(token_of(config), base_url=config.base_url, base_file_url=config.base_file_url,
               request=request(), get_updates_request=request())


class BotRunner:
    """Runs ``await call(bot)`` for synchronous callers, on an event loop in a thread of its
    own: it works whatever the caller's thread does with asyncio, and a job timeout raised in
    the caller (RQ's SIGALRM) abandons the call without breaking the loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bots: dict[tuple, Bot] = {}   # touched only on the loop's thread
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def run(self, config: TelegramBot, call, timeout: float | None = None):
        future = asyncio.run_coroutine_threadsafe(self._call(config, call), self._started())
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()  # a no-op when it is done; stops it after a timeout
            raise

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._pid != os.getpid():  # a forked child has the loop but not its thread
                self._loop, self._thread, self._bots, self._pid = None, None, {}, os.getpid()
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                                name="telegram-bot-api")
                self._thread.start()
            return self._loop

    async def _call(self, config: TelegramBot, call):
        key = (token_of(config), config.base_url, config.base_file_url)
        bot = self._bots.get(key)
        if bot is None:
            bot = make_bot(config)
            await bot.initialize()
            self._bots[key] = bot
        return await call(bot)

    async def _shutdown(self) -> None:
        bots, self._bots = list(self._bots.values()), {}
        await asyncio.gather(*(bot.shutdown() for bot in bots), return_exceptions=True)

    def reset(self) -> None:
        """Close the bots' connections and stop the loop's thread (a later run starts anew)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(SHUTDOWN_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(SHUTDOWN_TIMEOUT_S)
        if not thread.is_alive():
            loop.close()
