"""Jobs on the ``outbound`` queue: deliveries, acknowledgements, webhook events.

Every job carries ``Retry`` (RQ re-queues a job abandoned by a killed worker only then) with a
backoff of about five hours in all; a delivery marks itself failed after the workspace's
``outbound.max_attempts`` and stops raising, so RQ's own retry count is only a safety net.
"""
from __future__ import annotations

import uuid

from redis import Redis
from rq import Queue, Retry

from config import outbound as outbound_config
from store.models import utcnow

QUEUE = "outbound"
RETRY_INTERVALS_S = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 3600, 7200]
JOB_TIMEOUT_S = 120            # one SMTP conversation or HTTP call, with its timeouts
RESULT_TTL_S = 600
FAILURE_TTL_S = 30 * 24 * 3600
DELIVER_JOB = "workers.outbound.deliver.deliver"
ACK_JOB = "workers.outbound.ack.acknowledge"
WEBHOOK_JOB = "workers.outbound.webhook.push"


def enqueue(redis: Redis, function: str, *args, pipeline=None):
    retry = Retry(max=len(RETRY_INTERVALS_S), interval=RETRY_INTERVALS_S)
    return Queue(QUEUE, connection=redis).enqueue_call(
        function, args=args, retry=retry, timeout=JOB_TIMEOUT_S, result_ttl=RESULT_TTL_S,
        failure_ttl=FAILURE_TTL_S, pipeline=pipeline)


def enqueue_delivery(redis: Redis, message_id: int):
    """Deliver the stored ``out`` message ``message_id`` through its ticket's channel."""
    return enqueue(redis, DELIVER_JOB, message_id)


def notify_webhook(redis, config, number: int | None, change: dict, pipeline=None):
    """Enqueue the push of one change of ticket ``number`` (None: the ticket of the message
    ``change["dedupe_key"]``, found when the job runs); None when no webhook is set."""
    if not outbound_config.of(config).webhook.url:
        return None
    return enqueue(redis, WEBHOOK_JOB, config.slug, number, change,
                   uuid.uuid4().hex, utcnow().isoformat(), pipeline=pipeline)
