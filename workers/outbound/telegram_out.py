"""Replies to Telegram: ``sendMessage`` to the ticket's chat, as a reply to the customer's latest
message, through python-telegram-bot with the bot's configured Bot API URL.

The bot is the account the customer wrote to. Blocked bot, unknown chat, bad request: permanent
(the reply fails with Telegram's description); network errors, timeouts, flood control
(``RetryAfter``): transient, retried with backoff.
"""
from __future__ import annotations

from dataclasses import dataclass

from telegram import ReplyParameters
from telegram.error import (BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError,
                            RetryAfter, TelegramError, TimedOut)

from config.channels import TelegramBot
from clients.telegram import BotRunner, MissingToken
from workers.outbound.conversation import conversation_of
from workers.outbound.email_out import Outcome
from workers.outbound.relay import PermanentFailure, TransientFailure

RUNNER = BotRunner()   # one loop and initialized Bot per bot for the worker process
MAX_TEXT = 4096        # Bot API limit of one message's text
PERMANENT = (BadRequest, Forbidden, InvalidToken, ChatMigrated)
TRANSIENT = (RetryAfter, TimedOut, NetworkError)


@dataclass
class TelegramPlan:
    bot: TelegramBot
    chat_id: int
    reply_to: int | None
    text: str


def prepare(rt, session, message, ticket, config, key) -> TelegramPlan:
    found = conversation_of(session, ticket.id, "telegram")
    if found is None:
        raise PermanentFailure("the ticket has no Telegram chat to answer in")
    bot = config.channels.bot(found.account)
    if bot is None:
        raise PermanentFailure(f"bot {found.account!r} is not configured")
    chat, _, msg = found.reply_to.partition(":")
    reply_to = int(msg) if chat == found.conversation_id and msg.lstrip("-").isdigit() else None
    return TelegramPlan(bot, int(found.conversation_id), reply_to, message.text[:MAX_TEXT])


def send(rt, plan: TelegramPlan) -> Outcome:
    async def call(bot):
        reply = (ReplyParameters(message_id=plan.reply_to, allow_sending_without_reply=True)
                 if plan.reply_to else None)
        return await bot.send_message(chat_id=plan.chat_id, text=plan.text,
                                      reply_parameters=reply)
    try:
        sent = RUNNER.run(plan.bot, call)
    except MissingToken as exc:
        raise TransientFailure(str(exc)) from exc   # the operator may still set it
    except PERMANENT as exc:
        raise PermanentFailure(f"Telegram: {exc.message}") from exc
    except TRANSIENT as exc:
        raise TransientFailure(f"Telegram: {exc.__class__.__name__}: {exc}") from exc
    except TelegramError as exc:
        raise TransientFailure(f"Telegram: {exc}") from exc
    return Outcome("sent", f"Telegram message {sent.message_id} in chat {plan.chat_id}",
                   native_id=f"{plan.chat_id}:{sent.message_id}")
