"""The raw payload of an envelope: from Redis, where the edge left it, into the blob store.

A failing blob store (its disk) is the infrastructure's failure, not the message's: it raises
``Transient`` and the job is retried (``workers.ingest.isolation``).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterable

from queues.intake import RAW_KEY
from workers.ingest.isolation import Transient
from workers.ingest.pipeline import Quarantine


def prefetch(runtime, envelopes: list[dict]) -> dict[str, bytes]:
    """The raw payloads the edge left in Redis for ``envelopes`` (by sha256), in one round
    trip; ``load_raw`` takes them from here and ``forget`` deletes them from Redis at once."""
    refs = list(dict.fromkeys(e["raw_ref"] for e in envelopes if isinstance(e.get("raw_ref"), str)))
    if not refs:
        return {}
    values = runtime.redis.mget([RAW_KEY + ref for ref in refs])
    return {ref: value for ref, value in zip(refs, values) if value is not None}


def forget(runtime, waiting: dict[str, bytes]) -> None:
    """Delete the prefetched payloads from Redis: call only once each is in the blob store."""
    if waiting:
        runtime.redis.delete(*(RAW_KEY + ref for ref in waiting))


def load_raw(envelope: dict, runtime, waiting: dict[str, bytes] | None = None) -> bytes:
    """The raw payload: from ``waiting`` (prefetched from Redis and put in the blob store
    already, ``put_all``) or the blob store, else from Redis where the edge left it; a payload
    that came from Redis is put in the blob store."""
    sha = envelope["raw_ref"]
    raw = (waiting or {}).get(sha)
    if raw is not None:
        return raw
    with blob_store_io():
        if runtime.blobs.exists(sha):
            return runtime.blobs.get(sha)
    raw = runtime.redis.get(RAW_KEY + sha)
    if raw is None:
        raise Quarantine("raw_missing", f"raw payload {sha} is neither in Redis nor in blobs")
    with blob_store_io():
        runtime.blobs.put(raw)
    return raw


BLOB_WRITERS = 8  # blob writes (each with its fsync) of a batch in flight at once
# From this many blobs on, a batch's blobs are made durable by one sync of the file system
# (``BlobStore.put_many``) instead of an fsync each: about 0.25 ms of CPU saved per blob.
# Fewer go side by side, each with its fsync: a small batch's sync then waits for no one
# else's dirty data.
SYNC_ONCE_FROM = 8
_writers: ThreadPoolExecutor | None = None


def put_all(runtime, blobs: Iterable[bytes]) -> None:
    """Put ``blobs`` in the blob store; return once every one is durable."""
    global _writers
    blobs = list(blobs)
    with blob_store_io():
        if len(blobs) >= SYNC_ONCE_FROM:
            runtime.blobs.put_many(blobs)
            return
        if len(blobs) < 2:
            for data in blobs:
                runtime.blobs.put(data)
            return
        if _writers is None:
            _writers = ThreadPoolExecutor(BLOB_WRITERS, thread_name_prefix="blob-writer")
        for done in [_writers.submit(runtime.blobs.put, data) for data in blobs]:
            done.result()


@contextmanager
def blob_store_io():
    """The blob store's I/O errors (disk full, permissions) are the infrastructure's."""
    try:
        yield
    except OSError as exc:
        raise Transient(f"blob store: {exc}") from exc
