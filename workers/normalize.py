"""From a queued envelope to a normalized event: load the raw payload, run the channel adapter.

Channels are registered in ``ADAPTERS`` (one explicit table): channel id -> function that
turns (raw bytes, envelope, workspace config, all config) into a ``channels.email.ParsedEmail``-
like result with ``.event`` and ``.blobs``.
"""
from __future__ import annotations

from channels import email
from gateway.intake import RAW_KEY
from workers.pipeline import Quarantine


def normalize_email(raw: bytes, envelope: dict, runtime):
    meta = envelope.get("meta", {})
    workspace = runtime.config.workspace(envelope["workspace"])
    return email.parse(raw, workspace=envelope["workspace"], account=envelope["account"],
                       received_at=envelope["received_at"], raw_ref=envelope["raw_ref"],
                       own_domains=runtime.config.own_domains(),
                       envelope_to=tuple(meta.get("rcpt_to", ())),
                       envelope_from=meta.get("mail_from") or "",
                       subject_prefix=workspace.threading.subject_prefix)


ADAPTERS = {"email": normalize_email}
UNPARSEABLE = (email.Unparseable,)


def load_raw(envelope: dict, runtime) -> bytes:
    """The raw payload: from the blob store, or moved there from Redis where the edge left it."""
    sha = envelope["raw_ref"]
    if runtime.blobs.exists(sha):
        return runtime.blobs.get(sha)
    raw = runtime.redis.get(RAW_KEY + sha)
    if raw is None:
        raise Quarantine("raw_missing", f"raw payload {sha} is neither in Redis nor in blobs")
    runtime.blobs.put(raw)
    return raw


def normalize(envelope: dict, raw: bytes, runtime):
    adapter = ADAPTERS.get(envelope.get("channel"))
    if adapter is None:
        raise Quarantine("unknown_channel", f"no adapter for channel {envelope.get('channel')!r}")
    try:
        return adapter(raw, envelope, runtime)
    except UNPARSEABLE as exc:
        raise Quarantine("unparseable", str(exc)) from exc
