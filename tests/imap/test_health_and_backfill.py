"""Health per mailbox from the stored folder state, and the backfill command."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from config.workspaces import parse_config
from gateway.edges.imap.backfill import Backfill
from gateway.edges.imap.health import mailbox_status, prometheus_samples
from tests.conftest import TEST_CONFIG
from tests.imap.helpers import (WORKSPACE, append, deps, mail, mailbox, position, quarantine,
                                queued_uids, sync_once)

pytestmark = pytest.mark.integration


def config_with(box):
    first = {**TEST_CONFIG["workspaces"][0],
             "channels": {"mailboxes": [box.model_dump(mode="json")]}}
    return parse_config({"workspaces": [first, TEST_CONFIG["workspaces"][1]]})


def test_status_shows_last_fetch_and_backlog_per_mailbox(sqlite_runtime, dovecot, imap_user,
                                                         imap):
    box = mailbox(dovecot, imap_user, poll_interval_s=60)
    config = config_with(box)
    [never] = mailbox_status(sqlite_runtime.sessions, config)
    assert never["last_fetch_at"] is None and never["stale"] is True
    append(imap, [mail(1), mail(2)])
    sync_once(sqlite_runtime, dovecot, box)
    [status] = mailbox_status(sqlite_runtime.sessions, config)
    assert (status["workspace"], status["mailbox"], status["backlog"]) == (WORKSPACE, "support", 0)
    assert status["stale"] is False and status["age_s"] < 60
    assert status["folders"][0]["last_uid"] == 2
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    [old] = mailbox_status(sqlite_runtime.sessions, config, now=later)
    assert old["stale"] is True
    names = {name for name, _, _, _ in prometheus_samples([status])}
    assert names == {"imap_last_fetch_timestamp_seconds", "imap_backlog"}


def test_backfill_enqueues_everything_and_leaves_the_position_alone(sqlite_runtime, dovecot,
                                                                   imap_user, imap):
    box = mailbox(dovecot, imap_user, post_action="delete")
    append(imap, [mail(n) for n in range(1, 6)])
    sync_once(sqlite_runtime, dovecot, box)            # poller: 5 enqueued and deleted
    append(imap, [mail(n) for n in range(6, 9)], flags=[b"\\Seen"])
    result = Backfill(WORKSPACE, box, deps(sqlite_runtime), progress_bar=False,
                      batch_messages=2).run()
    assert result.enqueued == 3 and result.unfetchable == []
    assert position(sqlite_runtime).last_uid == 5      # not moved by the backfill
    imap.select_folder("INBOX", readonly=True)
    assert len(imap.search(["ALL"])) == 3               # no post-action on backfill
    assert queued_uids(sqlite_runtime) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_backfill_since_a_date_takes_only_newer_mail(sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user)
    old = datetime(2020, 1, 15, 10, 0, tzinfo=timezone.utc)
    imap.append("INBOX", mail(1), msg_time=old)
    imap.append("INBOX", mail(2))
    result = Backfill(WORKSPACE, box, deps(sqlite_runtime), progress_bar=False).run(
        since=date(2021, 1, 1))
    assert result.enqueued == 1 and queued_uids(sqlite_runtime) == [2]


def test_backfill_cli_shows_progress_and_counts(sqlite_runtime, dovecot, imap_user, imap,
                                                tmp_path):
    import subprocess
    import sys

    from tests.integration.harness import PROJECT_DIR, process_env
    box = mailbox(dovecot, imap_user)
    sqlite_runtime.config = config_with(box)
    append(imap, [mail(n) for n in range(1, 4)])
    result = subprocess.run([sys.executable, "-m", "gateway.edges.imap", "backfill", WORKSPACE,
                             "support", "--since", "2000-01-01"],
                            env=process_env(sqlite_runtime, tmp_path), cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "enqueued 3 message(s)" in result.stdout
    assert "3/3" in result.stderr                        # tqdm's progress bar
    assert queued_uids(sqlite_runtime) == [1, 2, 3]


def test_backfill_skips_and_quarantines_a_message_the_server_cannot_fetch(
        sqlite_runtime, dovecot, imap_user, imap):
    import os
    box = mailbox(dovecot, imap_user)
    append(imap, [mail(n) for n in range(1, 5)])
    broken = next(p for p in dovecot.maildir(imap_user).glob("*/*")
                  if p.parent.name in ("new", "cur") and b"Subject: Question 2" in p.read_bytes())
    os.chmod(broken, 0)
    result = Backfill(WORKSPACE, box, deps(sqlite_runtime), progress_bar=False).run()
    assert result.enqueued == 3 and result.unfetchable == [("INBOX", 2)]
    assert queued_uids(sqlite_runtime) == [1, 3, 4]
    [entry] = quarantine(sqlite_runtime)
    assert entry.reason == "imap_fetch_failed" and "backfill" in entry.detail
