"""Normalizing a batch: raw payloads into the blob store, each envelope through its adapter.

The batch's raw payloads come from Redis in one round trip; once every envelope has been
through its adapter, they go into the blob store together with the attachments the adapters
found, in one write: 8 blobs or more with one sync of the file system for all of them
(``BlobStore.put_many``), fewer side by side, each blob with its fsync (concurrent fsyncs share
the file system's journal commits). One write instead of one for the payloads and another for
the attachments spares a batch a second pair of syncs (or an fsync per attachment). Only then
do the raw payloads leave Redis (one round trip): from that moment the blob store holds them;
until then a crash leaves them in Redis and the retried job finds them there. Whatever fails with one message (its adapter's exception, its CPU
budget) quarantines only it (``workers.ingest.isolation``); the blob store's disk and Redis
failing are the infrastructure's, and the job is retried.
"""
from __future__ import annotations

import logging

from config.workspaces import WorkspaceConfig
from queues.intake import RAW_KEY
from queues.runtime import Runtime
from workers.ingest import isolation, phases, pipeline, raw_payload, rules_step
from workers.ingest.batch import Item
from workers.ingest.normalize import normalize

log = logging.getLogger(__name__)


def prepare_batch(rt: Runtime, envelopes: list[dict]) -> list[Item]:
    """Every envelope of the batch normalized (or marked for the quarantine), its payloads
    durable in the blob store and gone from Redis."""
    with phases.phase("prefetch"):
        waiting = raw_payload.prefetch(rt, envelopes)
    with phases.phase("parse"):
        items = [_prepare(rt, envelope, waiting) for envelope in envelopes]
    with phases.phase("blobs"):
        raw_payload.put_all(rt, [*waiting.values(),
                                 *(blob for item in items for blob in item.blobs)])
    with phases.phase("forget"):
        raw_payload.forget(rt, waiting)
    for item in items:
        item.blobs = []
    return items


def prepare(rt: Runtime, envelope: dict) -> Item:
    """One envelope on its own (tests, tools): as in a batch, its payloads written one by one."""
    item = _prepare(rt, envelope, None)
    raw_payload.put_all(rt, item.blobs)
    item.blobs = []
    return item


def _prepare(rt: Runtime, envelope: dict, waiting: dict[str, bytes] | None) -> Item:
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
    """The raw payload, then the channel adapter; the attachments it found wait on the item for
    the batch's blob writes. With ``waiting`` (what the batch prefetched from Redis) the payload
    goes into the blob store and leaves Redis with the whole batch's (``prepare_batch``); what
    was not in it was not in Redis either (``load_raw`` reads it from the blob store, or puts
    what it finds in Redis there at once)."""
    envelope = item.envelope
    raw = raw_payload.load_raw(envelope, rt, waiting)
    if waiting is None:
        rt.redis.delete(RAW_KEY + envelope["raw_ref"])  # durable in the blob store from now on
    item.config = _workspace(rt, envelope)
    parsed = normalize(envelope, raw, rt)
    if parsed.event is None:  # e.g. a bot command answered already: nothing to store
        item.outcome = "ignored"
        return
    item.blobs = list(parsed.blobs.values())
    item.event = parsed.event
    envelope["native_id"] = parsed.event.native_id
    if parsed.event.classification.kind not in pipeline.AUTOMATIC:  # never reaches the rules
        item.language = rules_step.early_language(item.event, item.config)


def _workspace(rt: Runtime, envelope: dict) -> WorkspaceConfig:
    config = rt.config.workspace(envelope.get("workspace", ""))
    if config is None:
        raise pipeline.Quarantine("unknown_workspace",
                                  f"workspace {envelope.get('workspace')!r} is not configured")
    return config
