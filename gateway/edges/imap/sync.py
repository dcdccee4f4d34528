"""One pass over one folder: fetch what is new since the stored position, make it durable, run
the post-action, advance the position. The order is what makes it safe:

1. SEARCH ``UID last+1:*`` (never ``UNSEEN``, never a date): the UIDs after the position.
2. FETCH ``BODY.PEEK[]`` a batch (100 messages / 20 MiB), ``Intake.accept_many`` it: one Redis
   transaction. Redis down -> ``IntakeUnavailable`` propagates: nothing advanced, no post-action.
3. Post-action (flag / move / delete) on the batch: only now, after durable enqueue.
4. Store the new position. A crash between any two steps re-fetches and re-enqueues the batch
   later; the pipeline's dedupe (Message-ID + content hash) makes that one ticket message.

A batch whose FETCH the server refuses is fetched again one message at a time; a message
refused ``FETCH_ATTEMPTS`` times is put in the quarantine (reason ``imap_fetch_failed``) and
skipped. The raw bytes of mail we cannot parse are enqueued anyway: the worker quarantines them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from imapclient import IMAPClient

from config.channels import Mailbox
from queues import metrics
from gateway.edges.imap import connection as imap
from gateway.edges.imap import folders
from gateway.edges.imap.folders import FolderKey
from gateway.edges.imap.state import (BATCH_BYTES, BATCH_MESSAGES, FolderProgress, Position, plan_batches, reconcile, search_criteria, uids_after, watermark)
from queues.intake import Intake, Submission

log = logging.getLogger(__name__)
CHANNEL = "email"


def account_of(mailbox: Mailbox) -> str:
    """The channel account of mail from ``mailbox``: its login when that is an address."""
    return mailbox.user if "@" in mailbox.user else mailbox.name


def submissions(key: FolderKey, mailbox: Mailbox, uidvalidity: int, raws: dict[int, bytes],
                **extra) -> list[Submission]:
    return [Submission(CHANNEL, key.workspace, account_of(mailbox), raw,
                       {"source": "imap", "mailbox": mailbox.name, "folder": key.folder,
                        "uid": uid, "uidvalidity": uidvalidity, **extra})
            for uid, raw in sorted(raws.items())]


def server_refused(exc: BaseException) -> bool:
    """True when the server itself refused the command (NO/BAD/BYE: something about the
    message); False when the connection broke (which says nothing about the message)."""
    text = str(exc)
    return (isinstance(exc, imap.imaplib.IMAP4.error)
            and "socket error" not in text and "EOF" not in text)


@dataclass
class Deps:
    """What a folder sync needs from the process: the store's sessions and the intake."""
    sessions: object
    intake: Intake


@dataclass
class FolderSync:
    key: FolderKey
    mailbox: Mailbox
    deps: Deps
    progress: FolderProgress = field(default_factory=FolderProgress)
    batch_messages: int = BATCH_MESSAGES
    batch_bytes: int = BATCH_BYTES

    @property
    def writable(self) -> bool:
        return self.mailbox.post_action != "none"

    def sync(self, client: IMAPClient) -> int:
        """Fetch and enqueue everything new in the folder; return how many were enqueued."""
        uidvalidity = imap.select(client, self.key.folder, self.writable)
        position = self.position(uidvalidity)
        uids = uids_after(imap.search_uids(client, search_criteria(position.last_uid)),
                          position.last_uid)
        regular, suspects = self.progress.split(uids)
        sizes = imap.fetch_sizes(client, regular) if regular else {}
        enqueued, last_uid = 0, position.last_uid
        for batch in plan_batches(regular, sizes, self.batch_messages, self.batch_bytes):
            enqueued += self.process_batch(client, batch, uidvalidity)
            last_uid = self.save(uidvalidity, last_uid, uids)
        for uid in suspects:
            enqueued += self.process_batch(client, [uid], uidvalidity)
        self.save(uidvalidity, last_uid, uids)
        return enqueued

    def position(self, uidvalidity: int) -> Position:
        """The stored position, reset when the folder's UIDVALIDITY changed."""
        stored = folders.load_position(self.deps.sessions, self.key)
        position, recreated = reconcile(stored, uidvalidity)
        if recreated:
            log.warning("%s: UIDVALIDITY changed %s -> %s (folder recreated): fetching the "
                        "whole folder again; duplicates are dropped by the pipeline",
                        self.key, stored.uidvalidity, uidvalidity)
        if position != stored:
            folders.reset_position(self.deps.sessions, self.key, uidvalidity)
        if self.progress.uidvalidity != uidvalidity:
            self.progress.reset(uidvalidity)
        return position

    def process_batch(self, client: IMAPClient, batch: list[int], uidvalidity: int) -> int:
        raws = self.fetch(client, batch, uidvalidity)
        if raws is None:
            return 0
        self.enqueue(raws, uidvalidity)
        self.finish(client, batch, raws)
        return len(raws)

    def fetch(self, client: IMAPClient, batch: list[int], uidvalidity: int):
        """The batch's raw bytes, or None when a lone message was refused (and recorded)."""
        try:
            return imap.fetch_raw(client, batch)
        except imap.CONNECTION_ERRORS as exc:
            if not server_refused(exc):
                raise
            if len(batch) > 1:
                log.warning("%s: FETCH of UIDs %s-%s refused (%s): fetching them one by one",
                            self.key, batch[0], batch[-1], exc)
                self.progress.batch_failed(batch)
                raise
            self.single_failed(batch[0], uidvalidity, exc)
            if isinstance(exc, imap.imaplib.IMAP4.abort):
                raise  # the server closed the connection
            return None

    def single_failed(self, uid: int, uidvalidity: int, exc: BaseException) -> None:
        metrics.incr(self.deps.intake.redis, "imap_fetch_errors", CHANNEL)
        if not self.progress.single_failed(uid):
            log.warning("%s: FETCH of UID %s refused (attempt %s of %s): %s", self.key, uid,
                        self.progress.attempts[uid], self.progress.max_attempts, exc)
            return
        log.error("%s: FETCH of UID %s refused %s times, skipping it (quarantine entry "
                  "imap_fetch_failed): %s", self.key, uid, self.progress.max_attempts, exc)
        folders.quarantine_unfetchable(self.deps.sessions, self.key, uidvalidity, uid,
                                       f"FETCH refused {self.progress.max_attempts} times: {exc}")
        metrics.incr(self.deps.intake.redis, "quarantined", CHANNEL)
        self.progress.mark_done([uid])

    def enqueue(self, raws: dict[int, bytes], uidvalidity: int) -> None:
        """Make the fetched mail durable (raises ``IntakeUnavailable`` when Redis is down)."""
        if raws:
            self.deps.intake.accept_many(submissions(self.key, self.mailbox, uidvalidity, raws))

    def finish(self, client: IMAPClient, batch: list[int], raws: dict[int, bytes]) -> None:
        """Post-action on what was enqueued; UIDs absent from the answer were expunged."""
        vanished = [uid for uid in batch if uid not in raws]
        if vanished:
            log.info("%s: UIDs %s vanished before FETCH (expunged elsewhere)", self.key, vanished)
        imap.post_action(client, self.mailbox, sorted(raws))
        self.progress.mark_done(batch)

    def save(self, uidvalidity: int, last_uid: int, uids: list[int]) -> int:
        """Store the position as far as everything before it is done; return it."""
        mark = watermark(last_uid, uids, self.progress.done)
        backlog = sum(1 for uid in uids if uid > mark and uid not in self.progress.done)
        folders.save_progress(self.deps.sessions, self.key, uidvalidity, mark, backlog)
        self.progress.forget_below(mark)
        return mark
