"""The long-running loop of one folder: connect, sync, wait for news, and start again after any
failure with exponential backoff.

Waiting for news: with ``idle: true`` and a server offering IDLE, the poller IDLEs and syncs as
soon as the server reports anything (a new message wakes it within about a second), and at the
latest every ``poll_interval_s`` (a safety net that also keeps "last successful fetch" fresh);
IDLE is re-issued well before the 29 minutes after which servers may drop it. Otherwise it syncs
every ``poll_interval_s``. A server that goes away, Redis or the store being down, a bad login:
each is logged, and the poller reconnects after 1, 2, 4 ... up to 300 s (with jitter); the
backoff resets after a successful sync. ``stop`` (SIGTERM) ends the loop between batches.
"""
from __future__ import annotations

import logging
import threading
import time

from imapclient import IMAPClient
from sqlalchemy.exc import SQLAlchemyError

from config.channels import Mailbox
from queues import metrics
from gateway.edges.imap import connection as imap
from gateway.edges.imap.folders import FolderKey
from gateway.edges.imap.state import Backoff
from gateway.edges.imap.sync import CHANNEL, Deps, FolderSync
from queues.intake import IntakeUnavailable

log = logging.getLogger(__name__)
IDLE_RENEW_S = 25 * 60    # re-issue IDLE before the server's 29-30 minute limit
IDLE_TICK_S = 1.0         # how often an IDLE wait looks at the stop flag


class ServerGone(ConnectionError):
    """The server closed the connection while we were IDLE."""


class FolderPoller:
    def __init__(self, workspace: str, mailbox: Mailbox, folder: str, deps: Deps,
                 stop: threading.Event, backoff: Backoff | None = None, connect=imap.connect):
        self.key = FolderKey(workspace, mailbox.name, folder)
        self.mailbox = mailbox
        self.deps = deps
        self.stop = stop
        self.backoff = backoff or Backoff()
        self.connect = connect
        self.folder_sync = FolderSync(self.key, mailbox, deps)
        self.syncs = 0          # successful syncs (for tests and logs)
        self.using_idle = None  # how the last connection waited for news

    def run(self) -> None:
        """Poll until ``stop`` is set; never raises."""
        log.info("%s: polling %s:%s (%s, post-action %s)", self.key, self.mailbox.host,
                 self.mailbox.port, "IDLE" if self.mailbox.idle else "polling",
                 self.mailbox.post_action)
        while not self.stop.is_set():
            client = None
            try:
                client = self.connect(self.mailbox)
                self.serve(client)
            except Exception as exc:  # a poller thread must never die
                self.report(exc)
            finally:
                imap.close(client)
            if not self.stop.is_set():
                delay = self.backoff.next_delay()
                log.info("%s: reconnecting in %.1f s", self.key, delay)
                self.stop.wait(delay)
        log.info("%s: stopped", self.key)

    def report(self, exc: Exception) -> None:
        redis = self.deps.intake.redis
        if isinstance(exc, IntakeUnavailable):
            log.warning("%s: queue unavailable, nothing advanced, will retry: %s", self.key, exc)
            metrics.incr(redis, "enqueue_failures", CHANNEL)
        elif isinstance(exc, imap.MailboxConfigError):
            log.error("%s: %s", self.key, exc)
        elif isinstance(exc, imap.CONNECTION_ERRORS):
            log.warning("%s: IMAP connection failed: %s: %s", self.key,
                        exc.__class__.__name__, exc)
            metrics.incr(redis, "imap_reconnects", CHANNEL)
        elif isinstance(exc, SQLAlchemyError):
            log.warning("%s: store unavailable, will retry: %s", self.key, exc)
        else:
            log.exception("%s: unexpected failure, will retry", self.key)

    def serve(self, client: IMAPClient) -> None:
        """Sync, then wait for news, until stopped or the connection fails."""
        use_idle = self.using_idle = self.mailbox.idle and imap.supports_idle(client)
        while not self.stop.is_set():
            count = self.folder_sync.sync(client)
            self.syncs += 1
            self.backoff.reset()
            if count:
                log.info("%s: enqueued %s message(s)", self.key, count)
            if self.stop.is_set():
                return
            if use_idle:
                self.idle(client)
            else:
                self.stop.wait(self.mailbox.poll_interval_s)

    def idle(self, client: IMAPClient) -> None:
        """IDLE until the server reports something, the safety-net period ends, or stop."""
        client.idle()
        self.wait_for_news(client, min(self.mailbox.poll_interval_s, IDLE_RENEW_S))
        client.idle_done()

    def wait_for_news(self, client: IMAPClient, period_s: float) -> None:
        deadline = time.monotonic() + period_s
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            tick = min(IDLE_TICK_S, remaining)
            started = time.monotonic()
            responses = client.idle_check(timeout=tick)
            if any(not _still_here(r) for r in responses):
                return
            # idle_check swallows EOF and returns nothing at once: the server hung up.
            if not responses and time.monotonic() - started < tick / 2:
                raise ServerGone("connection closed by the server during IDLE")


def _still_here(response) -> bool:
    return bool(response) and response[0] == b"OK"
