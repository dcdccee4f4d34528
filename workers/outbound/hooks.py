"""What the ingest job does after its batch committed: acknowledgements and webhook pushes.

``after_ingest(rt, items)`` is called by ``workers.ingest.job.ingest_with`` right after
``store_items`` (the transaction is committed, so a job never sees a ticket that a rollback
took away). It enqueues, in one Redis round trip, an acknowledgement job for every new ticket
whose first message may get one, and a webhook push per created or threaded message. A Redis
failure here is logged, not raised: the messages are stored, and re-running the ingest job
would only find duplicates (so no second chance to enqueue: the sweep is the safety net).
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

from config import outbound as outbound_config
from queues.outbound import notify_webhook
from workers.outbound import autoreply
from queues import outbound

log = logging.getLogger(__name__)


def after_ingest(rt, items) -> int:
    """Enqueue follow-up jobs for ``items`` (``workers.ingest.batch.Item``); returns how many."""
    count = 0
    try:
        with rt.redis.pipeline() as pipe:
            for item in items:
                count += _follow_ups(rt, item, pipe)
            pipe.execute()
    except RedisError as exc:
        log.warning("follow-up jobs of %d items not enqueued: %s", len(items), exc)
        return 0
    return count


def _follow_ups(rt, item, pipe) -> int:
    if item.outcome not in ("created", "threaded") or item.event is None or item.config is None:
        return 0
    event, config, count = item.event, item.config, 0
    settings = outbound_config.of(config)
    if (item.outcome == "created" and settings.acknowledgement.enabled
            and event.channel in autoreply.ACK_CHANNELS
            and event.classification.kind == "normal"):
        outbound.enqueue(rt.redis, outbound.ACK_JOB, config.slug, event.dedupe_key, pipeline=pipe)
        count += 1
    if settings.webhook.url:
        notify_webhook(rt.redis, config, None,
                       {"kind": "created" if item.outcome == "created" else "message",
                        "dedupe_key": event.dedupe_key}, pipeline=pipe)
        count += 1
    return count
