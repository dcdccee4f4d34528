"""Where a chat or Telegram reply goes: the ticket's conversation (account and id).

The pipeline keeps a conversation as the thread key ``conv:<channel>:<account>:<id>``; the
customer's latest message names the message to answer (Telegram: native id ``<chat>:<msg>``);
``last_inbound`` skips messages of unverified senders, so a reply never answers a stranger.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import ThreadKey
from tickets.actions import last_inbound


@dataclass
class Conversation:
    account: str
    conversation_id: str
    reply_to: str = ""      # native id of the customer's latest message


def conversation_of(session: Session, ticket_id: int, channel: str) -> Conversation | None:
    last = last_inbound(session, ticket_id)
    prefix = f"conv:{channel}:"
    keys = session.scalars(select(ThreadKey.key).where(ThreadKey.ticket_id == ticket_id,
                                                       ThreadKey.key.startswith(prefix))
                           .order_by(ThreadKey.id.desc()))
    for key in keys:
        account, sep, conversation = key[len(prefix):].partition(":")
        if sep and account != "sha256":
            return Conversation(last.account if last and last.account else account,
                                conversation, last.native_id if last else "")
    if last is not None and channel == "telegram" and ":" in last.native_id:
        return Conversation(last.account, last.native_id.split(":", 1)[0], last.native_id)
    return None

