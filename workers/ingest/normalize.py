"""From a queued envelope to a normalized event: load the raw payload, run the channel adapter.

``ADAPTERS`` is the one explicit table of channels: the envelope's channel (its queue) -> the
function that turns (raw bytes, envelope, runtime) into a ``channels.common.Parsed``. Mail that
arrived through a provider's inbound-parse webhook sits on the ``email`` queue with
``meta.format`` naming the provider. Functions are named by dotted path and imported on first
use, so a worker loads only its own channel's code. Tests register a channel of their own here
(a fault injector wrapping a real adapter); nothing else changes the table.

Each adapter call runs within the per-message CPU budget (``workers.ingest.isolation.cpu_budget``,
setting ``MESSAGE_CPU_BUDGET_S``). A failing blob store (its disk) is the infrastructure's
failure, not the message's: it raises ``Transient`` and the job is retried.
"""
from __future__ import annotations

import importlib
from contextlib import contextmanager

from channels import email
from channels.common import Unparseable
from queues.intake import RAW_KEY
from workers.ingest.isolation import Transient, cpu_budget
from workers.ingest.pipeline import Quarantine

ADAPTERS = {
    "email": "workers.ingest.normalize:normalize_email",
    "form": "workers.ingest.form:normalize",
    "chat": "workers.ingest.chat:normalize",
    "telegram": "workers.ingest.telegram:normalize",
}
INBOUND_PARSE = "workers.ingest.inbound:normalize"  # email with meta.format mailgun/sendgrid/...


def normalize_email(raw: bytes, envelope: dict, runtime):
    meta = envelope.get("meta", {})
    if meta.get("format", "mime") != "mime":
        return _resolve(INBOUND_PARSE)(raw, envelope, runtime)
    workspace = runtime.config.workspace(envelope["workspace"])
    return email.parse(raw, workspace=envelope["workspace"], account=envelope["account"],
                       received_at=envelope["received_at"], raw_ref=envelope["raw_ref"],
                       own_domains=runtime.config.own_domains(),
                       envelope_to=tuple(meta.get("rcpt_to", ())),
                       envelope_from=meta.get("mail_from") or "",
                       subject_prefix=workspace.threading.subject_prefix)


def _resolve(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


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


def normalize(envelope: dict, raw: bytes, runtime):
    path = ADAPTERS.get(envelope.get("channel"))
    if path is None:
        raise Quarantine("unknown_channel", f"no adapter for channel {envelope.get('channel')!r}")
    adapter = _resolve(path)  # outside the budget: a first import is not the message's cost
    try:
        with cpu_budget(runtime.settings.message_cpu_budget_s):
            return adapter(raw, envelope, runtime)
    except Unparseable as exc:
        raise Quarantine("unparseable", str(exc)) from exc
