"""Worker side of the inbound-parse webhooks: a queued provider request -> ``Parsed``.

``workers.ingest.normalize.normalize_email`` sends here every ``email`` envelope whose
``meta.format`` is a provider's (mailgun, mailgun-mime, sendgrid, sendgrid-raw, postmark).
The conversion is pure (``channels.inbound_parse``); this only supplies the workspace's settings,
exactly as ``normalize_email`` does for SMTP mail. Junk raises ``Unparseable`` (-> quarantine).
"""
from __future__ import annotations

from channels import inbound_parse
from channels.common import Parsed, Unparseable


def normalize(raw: bytes, envelope: dict, runtime) -> Parsed:
    meta = envelope.get("meta") or {}
    workspace = runtime.config.workspace(envelope["workspace"])
    if workspace is None:
        raise Unparseable(f"workspace {envelope['workspace']!r} is not configured")
    return inbound_parse.parse(
        raw, format_=str(meta.get("format", "")), content_type=str(meta.get("content_type", "")),
        workspace=envelope["workspace"], account=envelope["account"],
        received_at=envelope["received_at"], raw_ref=envelope["raw_ref"],
        own_domains=runtime.config.own_domains(),
        envelope_to=tuple(meta.get("rcpt_to") or ()), envelope_from=meta.get("mail_from") or "",
        subject_prefix=workspace.threading.subject_prefix)
