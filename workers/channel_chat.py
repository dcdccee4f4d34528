"""Worker side of the chat channel: the pure adapter, then the attachments it named by URL.

Each URL is downloaded into the blob store and becomes an ``Attachment``. A download that can
never work (4xx, too big) leaves a note in the message text instead of losing the message; a
transient failure (timeout, refused connection, 5xx) raises ``Transient`` so RQ retries the
job with backoff (the adapter's dedupe key does not depend on the download, so a retry that
finally succeeds stores the message once).
"""
from __future__ import annotations

import logging

from channels import chat
from channels.common import Parsed, RemoteFile
from channels.event import Attachment
from workers import remote_files
from workers.isolation import Transient
from workers.normalize import blob_store_io

log = logging.getLogger(__name__)


def normalize(raw: bytes, envelope: dict, runtime) -> Parsed:
    parsed = chat.parse(raw, workspace=envelope["workspace"], account=envelope["account"],
                        received_at=envelope["received_at"], raw_ref=envelope["raw_ref"])
    notes = [note for remote in parsed.remote_files
             if (note := fetch(parsed, remote, runtime)) is not None]
    parsed.remote_files = []
    if notes:
        add_notes(parsed, notes)
    return parsed


def fetch(parsed: Parsed, remote: RemoteFile, runtime) -> str | None:
    """Download one file into the blob store; return a note when it can never be fetched."""
    try:
        data, served_type = remote_files.download(remote.ref)
    except remote_files.DownloadFailed as exc:
        log.info("chat attachment %s not downloaded: %s", remote.ref, exc.reason)
        return f"attachment {remote.filename} could not be downloaded: {exc.reason}"
    except remote_files.DownloadRetry as exc:  # the remote server's failure, not the message's
        raise Transient(str(exc)) from exc
    with blob_store_io():
        sha = runtime.blobs.put(data)
    content_type = remote.content_type
    if content_type == "application/octet-stream" and served_type:
        content_type = served_type
    parsed.event.attachments.append(Attachment(filename=remote.filename,
                                               content_type=content_type, size=len(data),
                                               sha256=sha))
    return None


def add_notes(parsed: Parsed, notes: list[str]) -> None:
    event = parsed.event
    block = "\n".join(f"[{note}]" for note in notes)
    event.text = f"{event.text}\n\n{block}" if event.text else block
    event.reply_text = f"{event.reply_text}\n\n{block}" if event.reply_text else block
