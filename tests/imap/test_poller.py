"""The long-running poller: IDLE and polling, reconnecting after the server went away, and the
``python -m gateway.edges.imap`` process (graceful SIGTERM, idle without mailboxes)."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from config.workspaces import parse_config
from tests.conftest import TEST_CONFIG, make_runtime
from tests.imap.helpers import (append, mail, mailbox, position, queued_uids, running_poller,
                                wait_for)
from tests.integration.harness import PROJECT_DIR, process_env

pytestmark = pytest.mark.integration


def test_idle_wakes_the_poller_within_seconds(sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, idle=True, poll_interval_s=120)
    with running_poller(sqlite_runtime, box) as poller:
        assert wait_for(lambda: poller.syncs >= 1)
        time.sleep(0.3)                                 # it is IDLE now
        append(imap, [mail(1)])
        started = time.monotonic()
        assert wait_for(lambda: queued_uids(sqlite_runtime) == [1], timeout=10)
        assert time.monotonic() - started < 5           # not the 120 s poll interval
        assert poller.using_idle is True


def test_polling_without_idle_fetches_every_interval(sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, idle=False, poll_interval_s=0.3)
    with running_poller(sqlite_runtime, box) as poller:
        assert wait_for(lambda: poller.syncs >= 2)
        append(imap, [mail(1), mail(2)])
        assert wait_for(lambda: queued_uids(sqlite_runtime) == [1, 2])
        assert poller.using_idle is False


def test_reconnects_after_dovecot_restarts(sqlite_runtime, dovecot, imap_user):
    box = mailbox(dovecot, imap_user, idle=True, poll_interval_s=120)
    with running_poller(sqlite_runtime, box) as poller:
        assert wait_for(lambda: poller.syncs >= 1)
        dovecot.restart()
        client = dovecot.client(imap_user)
        append(client, [mail(1)])
        client.logout()
        assert wait_for(lambda: queued_uids(sqlite_runtime) == [1], timeout=20)
        # The sync that queued it counts itself only after it returns: wait, do not race it.
        assert wait_for(lambda: poller.syncs >= 2)


def test_reconnects_after_its_connection_is_killed(sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, idle=True, poll_interval_s=120)
    with running_poller(sqlite_runtime, box) as poller:
        assert wait_for(lambda: poller.syncs >= 1)
        time.sleep(0.3)
        dovecot.kick(imap_user)
        assert wait_for(lambda: poller.backoff.failures >= 1 or poller.syncs >= 2)
        client = dovecot.client(imap_user)
        append(client, [mail(1)])
        client.logout()
        assert wait_for(lambda: queued_uids(sqlite_runtime) == [1], timeout=20)


class Service:
    """``python -m gateway.edges.imap`` as a process, its output collected as it comes."""

    def __init__(self, env):
        self.process = subprocess.Popen([sys.executable, "-m", "gateway.edges.imap"], env=env,
                                        cwd=PROJECT_DIR, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> str:
        """SIGTERM; the process must exit 0 by itself."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)
        self.reader.join(5)
        assert self.process.returncode == 0, self.output
        return self.output


def test_process_polls_configured_mailboxes_and_stops_on_sigterm(
        sqlite_url, redis_url, redis_conn, tmp_path, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, folders=("INBOX", "Sales"), poll_interval_s=60)
    imap.create_folder("Sales")
    data = {**TEST_CONFIG, "workspaces": [
        {**TEST_CONFIG["workspaces"][0],
         "channels": {"mailboxes": [box.model_dump(mode="json")]}},
        TEST_CONFIG["workspaces"][1]]}
    runtime = make_runtime(sqlite_url, redis_url, tmp_path, parse_config(data))
    append(imap, [mail(1)])
    append(imap, [mail(2)], folder="Sales")
    service = Service(process_env(runtime, tmp_path))
    try:
        assert wait_for(lambda: position(runtime, "Sales") and position(runtime, "Sales").last_uid
                        == 1 and position(runtime).last_uid == 1, timeout=20), service.output
    finally:
        output = service.stop()
    assert "IMAP poller stopped" in output
    assert len(queued_uids(runtime)) == 2


def test_process_without_mailboxes_stays_up_and_says_so(sqlite_runtime, tmp_path):
    service = Service(process_env(sqlite_runtime, tmp_path))
    try:
        assert wait_for(lambda: "no IMAP mailbox is configured" in service.output, timeout=20)
        time.sleep(1.5)
        assert service.process.poll() is None, "it must not exit: honcho would stop the others"
    finally:
        service.stop()
