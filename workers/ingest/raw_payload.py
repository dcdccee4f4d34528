"""The raw payload of an envelope: from Redis, where the edge left it, into the blob store.

A failing blob store (its disk) is the infrastructure's failure, not the message's: it raises
``Transient`` and the job is retried (``workers.ingest.isolation``).
"""
from __future__ import annotations

from contextlib import contextmanager

from queues.intake import RAW_KEY
from workers.ingest.isolation import Transient
from workers.ingest.pipeline import Quarantine


def load_raw(envelope: dict, runtime) -> bytes:
    """The raw payload: from the blob store, or moved there from Redis where the edge left it."""
    sha = envelope["raw_ref"]
    with blob_store_io():
        if runtime.blobs.exists(sha):
            return runtime.blobs.get(sha)
    raw = runtime.redis.get(RAW_KEY + sha)
    if raw is None:
        raise Quarantine("raw_missing", f"raw payload {sha} is neither in Redis nor in blobs")
    with blob_store_io():
        runtime.blobs.put(raw)
    return raw


@contextmanager
def blob_store_io():
    """The blob store's I/O errors (disk full, permissions) are the infrastructure's."""
    try:
        yield
    except OSError as exc:
        raise Transient(f"blob store: {exc}") from exc
