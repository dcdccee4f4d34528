"""Accepting Telegram updates, shared by the webhook and the poller.

An update is accepted when it is durable on the ``telegram`` queue (raw JSON as Telegram sent
it, account = bot name). ``update_id`` is remembered for a day per workspace and bot, *after*
the enqueue succeeded (in the same Redis transaction), so a delivery that got a 503 is not mistaken for a duplicate when
Telegram retries it. The worker dedupes again on (chat, message id): this guard only saves work.
"""
from __future__ import annotations

from redis import Redis

from gateway.edges.http import nonce_key
from queues.channels import TELEGRAM
from queues.intake import Submission

QUEUE = TELEGRAM.queue
SEEN_TTL_S = 24 * 3600  # Telegram retries a webhook delivery for up to 24 hours


def update_id_of(data) -> int | None:
    """The ``update_id`` of a decoded update, or None when it is not an update at all."""
    if not isinstance(data, dict):
        return None
    value = data.get("update_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def seen_key(workspace: str, bot: str, update_id: int) -> str:
    """The replay-guard key of this update (``gateway.edges.http`` nonce, scope ``scope(ws, bot)``)."""
    return nonce_key(scope(workspace, bot), str(update_id))


def scope(workspace: str, bot: str) -> str:
    return f"telegram:{workspace}:{bot}"


def already_accepted(redis: Redis, workspace: str, bot: str, update_id: int) -> bool:
    """True when this update was enqueued in the last day (raises ``RedisError``)."""
    return bool(redis.exists(seen_key(workspace, bot, update_id)))


def mark_accepted(redis: Redis, workspace: str, bot: str, update_ids: list[int]) -> None:
    """Remember enqueued updates (raises ``RedisError``; callers treat that as harmless)."""
    with redis.pipeline(transaction=False) as pipe:
        for update_id in update_ids:
            pipe.set(seen_key(workspace, bot, update_id), 1, ex=SEEN_TTL_S)
        pipe.execute()


def submission(workspace: str, bot: str, raw: bytes, update_id: int) -> Submission:
    return Submission(channel=QUEUE, workspace=workspace, account=bot, raw=raw,
                      meta={"bot": bot, "update_id": update_id})
