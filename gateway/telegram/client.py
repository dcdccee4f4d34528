"""Talking to the Bot API through python-telegram-bot: building a ``Bot`` from a configured bot,
and running its coroutines from synchronous code (RQ jobs, commands).

``BotRunner`` keeps one event loop and the initialized ``Bot`` of each configured bot for the
life of the process: ``Bot.initialize`` calls getMe, so a worker pays that round trip once per
bot instead of once per job, and the HTTP connection is reused. Only jobs that download a file
or answer ``/start`` touch the network at all.
"""
from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from config.channels import TelegramBot, secret

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0     # per read; a 20 MB file download is many reads


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
    """Runs ``await call(bot)`` for synchronous callers on one cached loop and cached bots."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bots: dict[tuple, Bot] = {}

    def run(self, config: TelegramBot, call):
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        try:
            return self._loop.run_until_complete(self._call(config, call))
        except (TelegramError, MissingToken):
            raise
        except BaseException:
            self.reset()  # a job timeout inside the loop: start over with a clean loop
            raise

    async def _call(self, config: TelegramBot, call):
        key = (token_of(config), config.base_url, config.base_file_url)
        bot = self._bots.get(key)
        if bot is None:
            bot = make_bot(config)
            await bot.initialize()
            self._bots[key] = bot
        return await call(bot)

    def reset(self) -> None:
        loop, self._loop, self._bots = self._loop, None, {}
        if loop is not None and not loop.is_running():
            loop.close()
