"""Fetching from a real Dovecot: what is fetched, what the stored position says, UIDVALIDITY,
and the way to the ticket store (real RQ worker processes)."""
from __future__ import annotations

import pytest
from rq import Queue

from gateway.edges.imap import connection
from tests.imap.helpers import (append, folder_sync, mail, mailbox, message_count, position,
                                process_queue, queued_envelopes, queued_uids, stored_subjects,
                                sync_once)

pytestmark = pytest.mark.integration


def test_mail_arriving_while_the_poller_is_down_is_all_fetched_after_restart(
        sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user)
    append(imap, [mail(1), mail(2)])
    assert sync_once(sqlite_runtime, dovecot, box) == 2
    append(imap, [mail(n) for n in range(3, 8)])   # the poller is down meanwhile
    assert sync_once(sqlite_runtime, dovecot, box) == 5
    assert queued_uids(sqlite_runtime) == [1, 2, 3, 4, 5, 6, 7]
    assert position(sqlite_runtime).last_uid == 7
    assert sync_once(sqlite_runtime, dovecot, box) == 0   # nothing twice


def test_envelope_is_email_mime_with_imap_meta(sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user)
    raw = mail(1)
    append(imap, [raw])
    sync_once(sqlite_runtime, dovecot, box)
    [envelope] = queued_envelopes(sqlite_runtime)
    assert envelope["channel"] == "email" and envelope["workspace"] == "demo"
    assert envelope["account"] == "support"  # the login is no address: the mailbox name
    assert envelope["meta"]["source"] == "imap" and envelope["meta"]["folder"] == "INBOX"
    assert envelope["meta"]["uid"] == 1 and envelope["meta"]["mailbox"] == "support"
    assert envelope["size"] == len(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def test_mail_another_client_marked_seen_is_fetched_and_stays_as_it_was(
        sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user)
    append(imap, [mail(1)], flags=[b"\\Seen"])
    append(imap, [mail(2)])
    assert sync_once(sqlite_runtime, dovecot, box) == 2
    imap.select_folder("INBOX", readonly=True)
    flags = imap.get_flags([1, 2])
    assert b"\\Seen" in flags[1] and b"\\Seen" not in flags[2]  # BODY.PEEK: unread stays unread


def test_position_is_stored_with_uidvalidity_backlog_and_fetch_time(
        sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user)
    append(imap, [mail(n) for n in range(5)])
    uidvalidity = imap.select_folder("INBOX")[b"UIDVALIDITY"]
    sync = folder_sync(sqlite_runtime, box, batch_messages=2)
    client = connection.connect(box)
    try:
        assert sync.sync(client) == 5
    finally:
        connection.close(client)
    row = position(sqlite_runtime)
    assert (row.uidvalidity, row.last_uid, row.backlog) == (uidvalidity, 5, 0)
    assert row.last_fetch_at is not None
    jobs = Queue("email", connection=sqlite_runtime.redis).get_jobs()
    assert [len(job.args[0]) for job in jobs] == [2, 2, 1]  # one job per batch


def test_uidvalidity_change_refetches_the_folder_without_duplicates_or_losses(
        runtime, dovecot, imap_user, imap, tmp_path, api_keys):
    box = mailbox(dovecot, imap_user, folders=("Support",))
    imap.create_folder("Support")
    first = [mail(n) for n in range(3)]
    append(imap, first, folder="Support")
    sync_once(runtime, dovecot, box, "Support")
    old = position(runtime, "Support")
    # Someone recreates the folder: same mail plus new mail, UIDs start again at 1.
    imap.delete_folder("Support")
    imap.create_folder("Support")
    append(imap, first + [mail(10), mail(11)], folder="Support")
    assert sync_once(runtime, dovecot, box, "Support") == 5   # everything, again
    new = position(runtime, "Support")
    assert new.uidvalidity != old.uidvalidity and new.last_uid == 5
    process_queue(runtime, tmp_path)
    assert message_count(runtime) == 5
    assert stored_subjects(runtime) == sorted(f"Question {n}" for n in (0, 1, 2, 10, 11))


def test_uidvalidity_change_with_fewer_uids_than_before_still_fetches_everything(
        sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, folders=("Box",))
    imap.create_folder("Box")
    append(imap, [mail(n) for n in range(6)], folder="Box")
    sync_once(sqlite_runtime, dovecot, box, "Box")
    imap.delete_folder("Box")
    imap.create_folder("Box")
    append(imap, [mail(20), mail(21)], folder="Box")   # UIDs 1, 2: far below last_uid 6
    assert sync_once(sqlite_runtime, dovecot, box, "Box") == 2
    assert position(sqlite_runtime, "Box").last_uid == 2


def test_fetched_mail_becomes_tickets_on_both_databases(runtime, dovecot, imap_user, imap,
                                                        tmp_path, api_keys):
    box = mailbox(dovecot, imap_user)
    append(imap, [mail(1), mail(2)])
    sync_once(runtime, dovecot, box)
    process_queue(runtime, tmp_path)
    assert stored_subjects(runtime) == ["Question 1", "Question 2"]
