"""The ingest job: a batch of envelopes from a channel queue through the pipeline into the store.

``ingest(envelopes)`` is what the edges enqueue; the job may take the jobs queued behind it into
its batch (``workers.ingest.drain``). Every envelope of the batch is normalized first (raw
payload into the blob store, channel adapter: ``workers.ingest.prepare``), then the batch is
stored in one transaction (``workers.ingest.batch``). Each envelope ends in exactly one of:
created, threaded, edited, duplicate, ignored (nothing to store, such as a bot command),
quarantined. Whatever fails with one message (an adapter's exception, its CPU budget, a
pipeline step) quarantines only that message (``workers.ingest.isolation``). A transient
failure (Redis or the database down) raises, and RQ retries the whole job with backoff; unique
dedupe keys make the retry harmless. A job that dies (timeout, out of memory, SIGKILL) is split
in halves by ``workers.ingest.poison``. An
envelope queued under a channel's former name (``messenger``) is read with the channel's id.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from rq import get_current_job

from channels.event import TicketEvent
from config.workspaces import WorkspaceConfig
from queues import metrics
from queues.channels import current_envelope
from tickets import assign, routing_events
from workers.ingest import isolation, phases, pipeline, poison
from workers.ingest.batch import Item, store_items
from workers.ingest.prepare import prepare_batch
from workers.outbound.hooks import after_ingest
from queues.runtime import Runtime, runtime

log = logging.getLogger(__name__)


def ingest(envelopes: list[dict]) -> list[str]:
    """RQ job entry point (every channel's queue): the batch, guarded against dying jobs."""
    return poison.guarded(runtime(), get_current_job(), envelopes, ingest_with)


def ingest_with(rt: Runtime, envelopes: list[dict]) -> list[str]:
    with phases.phase("prepare"):
        items = prepare_batch(rt, [current_envelope(envelope) for envelope in envelopes])
    with phases.phase("store"):
        store_items(rt, items)
    with phases.phase("route"), phases.lock_waits("route lock wait"):
        route_items(rt, items)
    with phases.phase("after"):
        after_ingest(rt, items)  # acknowledgements and webhook pushes, after the commit
        record_metrics(rt, items)
    return [item.outcome for item in items]


def route_items(rt: Runtime, items: list[Item]) -> None:
    """Route the new tickets of the committed batch (one transaction per workspace,
    ``assign.route_all``) and publish each workspace's decisions at once; on a failure
    (database down) the tickets stay ``new`` and the sweep routes them
    (``workers.assignment.sweep``)."""
    tickets: dict[WorkspaceConfig, list[int]] = {}
    for item in items:
        if item.route is not None and item.outcome in ("created", "threaded"):
            tickets.setdefault(item.config, []).append(item.route)
    for config, ids in tickets.items():
        decisions = []
        try:
            decisions += assign.route_all(rt.sessions, config, ids)
        except Exception as exc:
            if isolation.is_job_timeout(exc):
                raise  # the job ran out of time, not these tickets: poison.py splits it
            log.exception("routing tickets %s failed; the sweep will retry", ids)
        try:
            routing_events.publish(rt, config, decisions)
        except Exception:
            log.exception("publishing %d routing decisions failed", len(decisions))


def store_event(rt: Runtime, config: WorkspaceConfig, event: TicketEvent) -> str:
    """Store one already normalized event (tests, replays of events); returns the outcome."""
    item = Item(envelope={"workspace": config.slug, "channel": event.channel}, config=config,
                event=event)
    store_items(rt, [item])
    route_items(rt, [item])
    if item.outcome == "quarantined":
        raise pipeline.Quarantine(item.reason, item.detail)
    return item.outcome


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
