"""Backfill: enqueue every message of a mailbox's folders (or those since a date), with a
progress bar, through the same path as the poller (``Intake.accept_many`` on the ``email``
queue). Reruns are harmless: the pipeline drops what it already stored (Message-ID + content
hash).

The backfill reads only (EXAMINE): it never runs the post-action and never touches the stored
position, so it cannot move ``last_uid`` backwards; the poller re-sees messages above its
position as usual (and dedupe drops them). ``--since`` uses IMAP ``SEARCH SINCE`` (the server's
internal date, day granularity), which is fine for an explicit one-off import.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

from tqdm import tqdm

from config.channels import Mailbox
from gateway.edges.imap import connection as imap
from gateway.edges.imap import folders
from gateway.edges.imap.folders import FolderKey
from gateway.edges.imap.state import (BATCH_BYTES, BATCH_MESSAGES, FETCH_ATTEMPTS, Backoff, plan_batches)
from gateway.edges.imap.sync import Deps, server_refused, submissions
from queues.intake import IntakeUnavailable

log = logging.getLogger(__name__)
ENQUEUE_ATTEMPTS = 8  # Redis down for about 2 minutes aborts the backfill (rerun it later)


@dataclass
class BackfillResult:
    enqueued: int = 0
    unfetchable: list[tuple[str, int]] = field(default_factory=list)  # (folder, uid)


class Backfill:
    def __init__(self, workspace: str, mailbox: Mailbox, deps: Deps, connect=imap.connect,
                 progress_bar: bool = True, batch_messages: int = BATCH_MESSAGES,
                 backoff: Backoff | None = None):
        self.workspace, self.mailbox, self.deps = workspace, mailbox, deps
        self.connect = connect
        self.progress_bar = progress_bar
        self.batch_messages = batch_messages
        self.backoff = backoff or Backoff(base_s=1.0, cap_s=30.0)
        self.client = None
        self.result = BackfillResult()

    def run(self, since: date | None = None, folder_names=None) -> BackfillResult:
        try:
            for folder in folder_names or self.mailbox.folders:
                self.folder(FolderKey(self.workspace, self.mailbox.name, folder), since)
        finally:
            imap.close(self.client)
        return self.result

    def open(self, folder: str) -> int:
        """(Re)connect when needed and EXAMINE ``folder``; its UIDVALIDITY."""
        if self.client is None:
            self.client = self.connect(self.mailbox)
        return imap.select(self.client, folder, writable=False)

    def reconnect(self, folder: str, uidvalidity: int) -> None:
        imap.close(self.client)
        self.client = None
        if self.open(folder) != uidvalidity:
            raise RuntimeError(f"{folder}: UIDVALIDITY changed during the backfill: rerun it")

    def folder(self, key: FolderKey, since: date | None) -> None:
        uidvalidity = self.open(key.folder)
        uids = sorted(imap.search_uids(self.client, ["SINCE", since] if since else ["ALL"]))
        sizes = imap.fetch_sizes(self.client, uids) if uids else {}
        with tqdm(total=len(uids), unit="msg", desc=f"{self.mailbox.name}/{key.folder}",
                  disable=not self.progress_bar) as bar:
            for batch in plan_batches(uids, sizes, self.batch_messages, BATCH_BYTES):
                raws = self.fetch(key, uidvalidity, batch)
                self.enqueue(key, uidvalidity, raws)
                bar.update(len(batch))

    def fetch(self, key: FolderKey, uidvalidity: int, batch: list[int]) -> dict[int, bytes]:
        """The batch's raw mail; a refused batch is fetched one message at a time, and a
        message refused ``FETCH_ATTEMPTS`` times is quarantined and skipped."""
        try:
            return imap.fetch_raw(self.client, batch)
        except imap.CONNECTION_ERRORS as exc:
            if len(batch) == 1 and not server_refused(exc):
                raise
            log.warning("%s: FETCH of %s UID(s) from %s failed: %s", key, len(batch), batch[0],
                        exc)
            self.reconnect(key.folder, uidvalidity)
        raws: dict[int, bytes] = {}
        for uid in batch:
            raw = self.fetch_one(key, uidvalidity, uid)
            if raw is not None:
                raws[uid] = raw
        return raws

    def fetch_one(self, key: FolderKey, uidvalidity: int, uid: int) -> bytes | None:
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            try:
                return imap.fetch_raw(self.client, [uid]).get(uid)
            except imap.CONNECTION_ERRORS as exc:
                log.warning("%s: FETCH of UID %s failed (attempt %s): %s", key, uid, attempt, exc)
                error = exc
                self.reconnect(key.folder, uidvalidity)
        folders.quarantine_unfetchable(self.deps.sessions, key, uidvalidity, uid,
                                       f"backfill: FETCH failed {FETCH_ATTEMPTS} times: {error}")
        self.result.unfetchable.append((key.folder, uid))
        return None

    def enqueue(self, key: FolderKey, uidvalidity: int, raws: dict[int, bytes]) -> None:
        subs = submissions(key, self.mailbox, uidvalidity, raws, backfill=True)
        for attempt in range(1, ENQUEUE_ATTEMPTS + 1):
            try:
                if subs:
                    self.deps.intake.accept_many(subs)
                self.result.enqueued += len(subs)
                self.backoff.reset()
                return
            except IntakeUnavailable as exc:
                if attempt == ENQUEUE_ATTEMPTS:
                    raise
                delay = self.backoff.next_delay()
                log.warning("queue unavailable (%s); retrying in %.1f s", exc, delay)
                time.sleep(delay)
