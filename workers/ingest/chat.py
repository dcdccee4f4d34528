"""Worker side of the chat channel: the pure adapter, then the attachments it named by URL.

Messages the widget posted (``meta.source`` widget) are parsed as such: a visitor's email
is then never a proven link, whatever the payload says (docs/threading.md).

Each URL is downloaded into the blob store and becomes an ``Attachment``, through the guarded
client (``workers.ingest.remote_files``: public addresses unless the workspace's ``fetch_allow_hosts``
lists the host, one time budget per message). A download that can never work (4xx, too big, a
refused address, too slow) leaves a note in the message text instead of losing the message; a
transient failure (timeout, refused connection, 5xx) raises ``Transient`` so RQ retries the
job with backoff (the adapter's dedupe key does not depend on the download, so a retry that
finally succeeds stores the message once).
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels import chat
from channels.common import Parsed, RemoteFile
from channels.event import Attachment
from workers.ingest import remote_files
from workers.ingest.isolation import Transient
from workers.ingest.raw_payload import blob_store_io

log = logging.getLogger(__name__)


def normalize(raw: bytes, envelope: dict, runtime) -> Parsed:
    parsed = chat.parse(raw, workspace=envelope["workspace"], account=envelope["account"],
                        received_at=envelope["received_at"], raw_ref=envelope["raw_ref"],
                        from_widget=from_widget(envelope))
    allow = remote_files.AllowList.of(runtime.config.workspace(envelope["workspace"]))
    until = remote_files.budget_end()  # one time budget for all the message's downloads
    notes = [note for remote in parsed.remote_files
             if (note := fetch(parsed, remote, runtime, allow, until)) is not None]
    parsed.remote_files = []
    if notes:
        add_notes(parsed, notes)
    return parsed


def from_widget(envelope: dict) -> bool:
    """Whether our widget built the payload (``gateway.edges.chat.intake`` stamps ``meta.source``):
    then nothing in it is vouched for by the business, in particular not the visitor's email."""
    return (envelope.get("meta") or {}).get("source") == "widget"


def fetch(parsed: Parsed, remote: RemoteFile, runtime, allow, until) -> str | None:
    """Download one file into the blob store; return a note when it can never be fetched."""
    try:
        data, served_type = remote_files.download(remote.ref, allow=allow, until=until)
    except remote_files.DownloadFailed as exc:
        # the host only: a URL's path or query may hold a token
        log.info("chat attachment %r from %s not downloaded: %s", remote.filename,
                 urlsplit(remote.ref).hostname, exc.reason)
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
