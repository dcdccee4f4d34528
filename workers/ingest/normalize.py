"""From a queued envelope to a normalized event: run the channel adapter within its CPU budget.

``ADAPTERS`` is the one explicit table of channels: the envelope's channel (its queue) -> the
function that turns (raw bytes, envelope, runtime) into a ``channels.common.Parsed``. Mail that
arrived through a provider's inbound-parse webhook sits on the ``email`` queue with
``meta.format`` naming the provider (``normalize_email`` hands it to ``workers.ingest.inbound``).
Tests register a channel of their own here (a fault injector wrapping a real adapter); nothing
else changes the table.

Each adapter call runs within the per-message CPU budget (``workers.ingest.isolation.cpu_budget``,
setting ``MESSAGE_CPU_BUDGET_S``). The raw payload itself comes from
``workers.ingest.raw_payload``.
"""
from __future__ import annotations

from channels import email
from channels.common import Unparseable
from workers.ingest import chat, form, inbound, telegram
from workers.ingest.isolation import cpu_budget
from workers.ingest.pipeline import Quarantine


def normalize_email(raw: bytes, envelope: dict, runtime):
    meta = envelope.get("meta", {})
    if meta.get("format", "mime") != "mime":
        return inbound.normalize(raw, envelope, runtime)
    workspace = runtime.config.workspace(envelope["workspace"])
    return email.parse(raw, workspace=envelope["workspace"], account=envelope["account"],
                       received_at=envelope["received_at"], raw_ref=envelope["raw_ref"],
                       own_domains=runtime.config.own_domains(),
                       envelope_to=tuple(meta.get("rcpt_to", ())),
                       envelope_from=meta.get("mail_from") or "",
                       subject_prefix=workspace.threading.subject_prefix)


ADAPTERS = {
    "email": normalize_email,
    "form": form.normalize,
    "chat": chat.normalize,
    "telegram": telegram.normalize,
}


def normalize(envelope: dict, raw: bytes, runtime):
    adapter = ADAPTERS.get(envelope.get("channel"))
    if adapter is None:
        raise Quarantine("unknown_channel", f"no adapter for channel {envelope.get('channel')!r}")
    try:
        with cpu_budget(runtime.settings.message_cpu_budget_s):
            return adapter(raw, envelope, runtime)
    except Unparseable as exc:
        raise Quarantine("unparseable", str(exc)) from exc
