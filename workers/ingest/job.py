"""The ingest job: a batch of envelopes from a channel queue through the pipeline into the store.

``ingest(envelopes)`` is what the edges enqueue. Every envelope of a job is normalized first
(raw payload into the blob store, channel adapter), then the batch is stored in one transaction
(``workers.ingest.batch``). Each envelope ends in exactly one of: created, threaded, edited,
duplicate, ignored (nothing to store, such as a bot command), quarantined. Whatever fails with
one message (an adapter's exception, its CPU budget, a pipeline step) quarantines only that
message (``workers.ingest.isolation``). A transient failure (Redis or the database down) raises, and
RQ retries the whole job with backoff; unique dedupe keys make the retry harmless. A job that
dies (timeout, out of memory, SIGKILL) is split in halves by ``workers.ingest.poison``.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from rq import get_current_job

from channels.event import TicketEvent
from config.workspaces import Workspace
from queues import metrics
from queues.intake import RAW_KEY
from tickets import assign, routing_events
from workers.ingest import isolation, pipeline, poison
from workers.ingest.batch import Item, store_items
from workers.ingest.normalize import normalize
from workers.ingest import raw_payload
from workers.ingest.raw_payload import blob_store_io
from workers.outbound.hooks import after_ingest
from queues.runtime import Runtime, runtime

log = logging.getLogger(__name__)


def ingest(envelopes: list[dict]) -> list[str]:
    """RQ job entry point (every channel's queue): the batch, guarded against dying jobs."""
    return poison.guarded(runtime(), get_current_job(), envelopes, ingest_with)


def ingest_with(rt: Runtime, envelopes: list[dict]) -> list[str]:
    waiting = raw_payload.prefetch(rt, envelopes)  # one round trip for the batch's raw bytes
    items = [prepare(rt, envelope, waiting) for envelope in envelopes]
    raw_payload.forget(rt, waiting)  # every one is durable in the blob store now
    store_items(rt, items)
    route_items(rt, items)
    after_ingest(rt, items)  # acknowledgements and webhook pushes, after the commit
    record_metrics(rt, items)
    return [item.outcome for item in items]


def route_items(rt: Runtime, items: list[Item]) -> None:
    """Route the new tickets of the committed batch; on a failure (database down) the ticket
    stays ``new`` and the sweep routes it (``workers.assignment.sweep``)."""
    for item in items:
        if item.route is None or item.outcome not in ("created", "threaded"):
            continue
        try:
            routing_events.publish(
                rt, item.config, assign.route_all(rt.sessions, item.config, [item.route]))
        except Exception as exc:
            if isolation.is_job_timeout(exc):
                raise  # the job, not this ticket, ran out of time: workers.ingest.poison splits it
            log.exception("routing ticket %s failed; the sweep will retry", item.route)


def store_event(rt: Runtime, config: Workspace, event: TicketEvent) -> str:
    """Store one already normalized event (tests, replays of events); returns the outcome."""
    item = Item(envelope={"workspace": config.slug, "channel": event.channel}, config=config,
                event=event)
    store_items(rt, [item])
    route_items(rt, [item])
    if item.outcome == "quarantined":
        raise pipeline.Quarantine(item.reason, item.detail)
    return item.outcome


def prepare(rt: Runtime, envelope: dict, waiting: dict[str, bytes] | None = None) -> Item:
    """Normalize one envelope; any failure of its own marks it for the quarantine.

    Failures of the infrastructure (Redis, the database, the blob store) and RQ's job timeout
    are not the message's: they propagate and the job is retried or split.
    """
    item = Item(envelope=envelope)
    try:
        _normalize_item(rt, item, waiting)
    except pipeline.Quarantine as exc:
        item.outcome, item.reason, item.detail = "quarantined", exc.reason, exc.detail
    except BaseException as exc:  # noqa: B902 - MessageTooExpensive is a BaseException
        failure = isolation.message_failure(exc)
        if failure is None:
            raise
        log.warning("message %s failed: %s", envelope.get("raw_ref"),
                    isolation.clean_text(failure[1][:300]))
        item.outcome, (item.reason, item.detail) = "quarantined", failure
    return item


def _normalize_item(rt: Runtime, item: Item, waiting: dict[str, bytes] | None) -> None:
    """Raw payload into the blob store, then the channel adapter. With ``waiting`` (what the
    batch prefetched from Redis) the payload leaves Redis with the whole batch's
    (``ingest_with``); what was not in it was not in Redis either."""
    envelope = item.envelope
    raw = raw_payload.load_raw(envelope, rt, waiting)
    if waiting is None:
        rt.redis.delete(RAW_KEY + envelope["raw_ref"])  # durable in the blob store from now on
    item.config = _workspace(rt, envelope)
    parsed = normalize(envelope, raw, rt)
    if parsed.event is None:  # e.g. a bot command answered already: nothing to store
        item.outcome = "ignored"
        return
    with blob_store_io():
        for data in parsed.blobs.values():
            rt.blobs.put(data)
    item.event = parsed.event
    envelope["native_id"] = parsed.event.native_id


def _workspace(rt: Runtime, envelope: dict) -> Workspace:
    config = rt.config.workspace(envelope.get("workspace", ""))
    if config is None:
        raise pipeline.Quarantine("unknown_workspace",
                                  f"workspace {envelope.get('workspace')!r} is not configured")
    return config


OUTCOME_METRIC = {"created": "tickets_created", "threaded": "tickets_threaded",
                  "edited": "messages_edited", "duplicate": "duplicates", "ignored": "ignored",
                  "quarantined": "quarantined"}


def record_metrics(rt: Runtime, items: list[Item]) -> None:
    counts: dict[tuple[str, str], int] = {}
    latencies = []
    for item in items:
        channel = item.envelope.get("channel", "?")
        key = (OUTCOME_METRIC[item.outcome], channel)
        counts[key] = counts.get(key, 0) + 1
        if item.outcome in ("created", "threaded"):
            latencies.append((channel, _age_s(item.envelope)))
    metrics.record(rt.redis, counts, latencies)


def _age_s(envelope: dict) -> float:
    try:
        received = datetime.fromisoformat(envelope["received_at"])
    except (KeyError, ValueError):
        return 0.0
    return (datetime.now(timezone.utc) - received).total_seconds()
