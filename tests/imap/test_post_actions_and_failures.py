"""Post-actions only after durable enqueue, crashes between the steps, Redis down, bad mail."""
from __future__ import annotations

import os

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gateway.edges.imap import connection
from queues.intake import IntakeUnavailable
from tests.imap.helpers import (append, folder_sync, mail, mailbox, message_count, position,
                                process_queue, quarantine, queued_uids, running_poller,
                                stored_subjects, sync_once, wait_for)
from tests.integration.harness import free_port
from tests.integration.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


def flags_of(imap, folder="INBOX") -> dict:
    imap.select_folder(folder, readonly=True)
    return imap.get_flags(imap.search(["ALL"]))


def quick_redis(port: int, db: int = 0) -> Redis:
    """A client that fails at once when nothing answers (no retries with backoff)."""
    return Redis(port=port, db=db, socket_connect_timeout=1, socket_timeout=1,
                 retry=Retry(NoBackoff(), 0))


def dead_redis() -> Redis:
    return quick_redis(free_port())


def test_flag_marks_only_what_was_enqueued(sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, post_action="flag")
    append(imap, [mail(1), mail(2)])
    sync_once(sqlite_runtime, dovecot, box)
    assert queued_uids(sqlite_runtime) == [1, 2]
    assert all(b"\\Flagged" in f for f in flags_of(imap).values())


def test_move_moves_to_the_folder_it_creates(sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, post_action="move", move_to="Done")
    append(imap, [mail(1), mail(2)])
    sync_once(sqlite_runtime, dovecot, box)
    assert queued_uids(sqlite_runtime) == [1, 2]
    assert flags_of(imap) == {}
    assert len(flags_of(imap, "Done")) == 2


def test_delete_expunges_what_was_enqueued(sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, post_action="delete")
    append(imap, [mail(1), mail(2)])
    sync_once(sqlite_runtime, dovecot, box)
    assert queued_uids(sqlite_runtime) == [1, 2]
    assert flags_of(imap) == {}
    append(imap, [mail(3)])                      # the next one: UID 3, not a refetch
    sync_once(sqlite_runtime, dovecot, box)
    assert queued_uids(sqlite_runtime) == [1, 2, 3]


@pytest.mark.parametrize("action", ["flag", "move", "delete"])
def test_redis_down_means_no_post_action_and_nothing_advanced(sqlite_runtime, dovecot,
                                                               imap_user, imap, action):
    box = mailbox(dovecot, imap_user, post_action=action, move_to="Done")
    append(imap, [mail(1)])
    with pytest.raises(IntakeUnavailable):
        sync_once(sqlite_runtime, dovecot, box, redis=dead_redis())
    assert position(sqlite_runtime).last_uid == 0
    assert flags_of(imap) == {1: ()}             # still there, not flagged
    sync_once(sqlite_runtime, dovecot, box)       # Redis is back: the retry does it all
    assert queued_uids(sqlite_runtime) == [1]
    assert position(sqlite_runtime).last_uid == 1


def test_poller_retries_by_itself_when_redis_comes_back(sqlite_runtime, dovecot, imap_user, imap):
    real = sqlite_runtime.redis.connection_pool.connection_kwargs
    proxy = TcpProxy((real.get("host", "127.0.0.1"), real.get("port", 6379)))
    redis = quick_redis(proxy.port, real.get("db", 0))
    box = mailbox(dovecot, imap_user, post_action="flag")
    append(imap, [mail(1)])
    with running_poller(sqlite_runtime, box, redis=redis) as poller:
        assert wait_for(lambda: poller.backoff.failures >= 2)   # failing: Redis is down
        assert position(sqlite_runtime).last_uid == 0 and flags_of(imap) == {1: ()}
        proxy.start()
        try:
            assert wait_for(lambda: position(sqlite_runtime).last_uid == 1)
        finally:
            proxy.stop()
    assert queued_uids(sqlite_runtime) == [1]
    assert b"\\Flagged" in flags_of(imap)[1]


def test_crash_between_enqueue_and_post_action_yields_one_ticket_message(
        runtime, dovecot, imap_user, imap, tmp_path, api_keys):
    box = mailbox(dovecot, imap_user, post_action="move", move_to="Done")
    append(imap, [mail(1), mail(2)])
    crashed = folder_sync(runtime, box)
    client = connection.connect(box)
    uidvalidity = connection.select(client, "INBOX", writable=True)
    crashed.position(uidvalidity)
    crashed.enqueue(connection.fetch_raw(client, [1, 2]), uidvalidity)
    client.shutdown()                              # killed here: no post-action, no position
    assert position(runtime).last_uid == 0 and len(flags_of(imap)) == 2
    sync_once(runtime, dovecot, box)               # the restarted poller
    assert queued_uids(runtime) == [1, 1, 2, 2]    # enqueued twice ...
    assert flags_of(imap) == {} and position(runtime).last_uid == 2
    process_queue(runtime, tmp_path)
    assert message_count(runtime) == 2             # ... stored once
    assert stored_subjects(runtime) == ["Question 1", "Question 2"]


def test_garbage_mail_is_enqueued_and_quarantined_without_blocking_others(
        sqlite_runtime, dovecot, imap_user, imap, tmp_path, api_keys):
    box = mailbox(dovecot, imap_user, post_action="flag")
    append(imap, [mail(1), b"\x00\xff\xfe garbage \x00\x01\r\n", mail(3)])
    assert sync_once(sqlite_runtime, dovecot, box) == 3
    assert position(sqlite_runtime).last_uid == 3
    process_queue(sqlite_runtime, tmp_path)
    assert stored_subjects(sqlite_runtime) == ["Question 1", "Question 3"]
    [entry] = quarantine(sqlite_runtime)
    assert entry.reason == "unparseable" and entry.channel == "email"


def test_message_the_server_cannot_fetch_is_quarantined_after_retries(
        sqlite_runtime, dovecot, imap_user, imap):
    box = mailbox(dovecot, imap_user, post_action="flag")
    append(imap, [mail(n) for n in range(1, 6)])
    broken = next(p for p in dovecot.maildir(imap_user).glob("*/*")
                  if p.parent.name in ("new", "cur") and b"Subject: Question 3" in p.read_bytes())
    os.chmod(broken, 0)                            # Dovecot can no longer read UID 3
    with running_poller(sqlite_runtime, box):
        assert wait_for(lambda: quarantine(sqlite_runtime), timeout=30)
        assert wait_for(lambda: position(sqlite_runtime).last_uid == 5)
    assert queued_uids(sqlite_runtime) == [1, 2, 4, 5]
    [entry] = quarantine(sqlite_runtime)
    assert entry.reason == "imap_fetch_failed" and "UID=3" in entry.native_id
    flags = flags_of(imap)
    assert [uid for uid in flags if b"\\Flagged" in flags[uid]] == [1, 2, 4, 5]
