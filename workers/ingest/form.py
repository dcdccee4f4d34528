"""Worker side of the contact form: the queued JSON payload -> ``Parsed`` (no I/O needed).

Attachments travel inside the payload (base64), so nothing is fetched; the workspace's subject
prefix decides which ``[PREFIX#N]`` token threads.
"""
from __future__ import annotations

from channels import form
from channels.common import Parsed, Unparseable


def normalize(raw: bytes, envelope: dict, runtime) -> Parsed:
    workspace = runtime.config.workspace(envelope["workspace"])
    if workspace is None:
        raise Unparseable(f"unknown workspace {envelope['workspace']!r}")
    return form.parse(raw, workspace=envelope["workspace"], account=envelope["account"],
                      received_at=envelope["received_at"], raw_ref=envelope["raw_ref"],
                      subject_prefix=workspace.threading.subject_prefix)
