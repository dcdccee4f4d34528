"""The outbound sweep: replies stored as queued whose job never made it to Redis (Redis was
down right after the API stored them) are enqueued again. Safe to run any time: delivering an
already finished message is a no-op, so a message enqueued twice is still sent once.

Run it from the scheduled worker or cron: ``python -m workers.outbound.sweep``.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from store.models import Message, utcnow
from queues import outbound as queue
from queues.runtime import Runtime, runtime

STALE_AFTER_S = 15 * 60   # longer than the first retries' backoff: those are still on their way
MAX_PER_RUN = 1000


def requeue_stalled(rt: Runtime, stale_after_s: int = STALE_AFTER_S) -> int:
    """Enqueue queued ``out`` messages created more than ``stale_after_s`` ago and not tried."""
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    with rt.read_sessions() as session:
        ids = list(session.scalars(select(Message.id).where(
            Message.direction == "out", Message.delivery_status == "queued",
            Message.attempts == 0, Message.created_at < cutoff).limit(MAX_PER_RUN)))
    for message_id in ids:
        queue.enqueue_delivery(rt.redis, message_id)
    return len(ids)


if __name__ == "__main__":
    print(f"{requeue_stalled(runtime())} stalled replies enqueued")
