"""The ``imap`` process: one poller thread per (workspace, mailbox, folder) of the workspace
file, stopped gracefully on SIGTERM/SIGINT.

With no mailbox configured the process stays up doing nothing (honcho stops every process of
the Procfile when one exits) and says so in its log.
"""
from __future__ import annotations

import logging
import signal
import threading

from config.workspaces import Config
from gateway.edges.imap.poller import FolderPoller
from gateway.edges.imap.sync import Deps

log = logging.getLogger(__name__)
JOIN_TIMEOUT_S = 30  # a poller finishing its batch (enqueue + post-action) gets this long


def folders_of(config: Config) -> list[tuple[str, object, str]]:
    """Every (workspace slug, Mailbox, folder) to poll."""
    return [(workspace.slug, mailbox, folder)
            for workspace in config.workspaces
            for mailbox in workspace.channels.mailboxes
            for folder in mailbox.folders]


def start_pollers(config: Config, deps: Deps, stop: threading.Event) -> list[threading.Thread]:
    threads = []
    for slug, mailbox, folder in folders_of(config):
        poller = FolderPoller(slug, mailbox, folder, deps, stop)
        thread = threading.Thread(target=poller.run, name=f"imap:{poller.key}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def serve(config: Config, deps: Deps, stop: threading.Event) -> None:
    """Run every poller until ``stop`` is set, then wait for them to finish their batch."""
    threads = start_pollers(config, deps, stop)
    if not threads:
        log.info("no IMAP mailbox is configured in any workspace: nothing to poll, idling")
    else:
        log.info("polling %s folder(s)", len(threads))
    while not stop.wait(1.0):  # short waits: the signal handler runs between them
        pass
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    log.info("IMAP poller stopped")


def install_signal_handlers(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
