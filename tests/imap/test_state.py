"""Unit tests of the pure bookkeeping (no server): positions, UID ranges, batches, retries."""
from __future__ import annotations

import random

from gateway.edges.imap.state import (Backoff, FolderProgress, Position, plan_batches, reconcile, search_criteria, uids_after, watermark)


def test_same_uidvalidity_keeps_the_position():
    assert reconcile(Position(7, 42), 7) == (Position(7, 42), False)


def test_first_sight_starts_at_zero_without_calling_it_a_change():
    assert reconcile(Position(0, 0), 99) == (Position(99, 0), False)


def test_changed_uidvalidity_restarts_at_zero():
    assert reconcile(Position(7, 42), 8) == (Position(8, 0), True)


def test_search_starts_after_the_last_uid():
    assert search_criteria(0) == ["UID", "1:*"]
    assert search_criteria(41) == ["UID", "42:*"]


def test_uids_after_drops_the_highest_uid_that_n_star_returns_below_n():
    # "UID 43:*" on a folder whose highest UID is 40 answers 40.
    assert uids_after([40], 42) == []
    assert uids_after([b"45", 43, 44, 43], 42) == [43, 44, 45]


def test_batches_respect_count_and_bytes_and_keep_order():
    uids = list(range(1, 8))
    assert plan_batches(uids, {}, max_count=3) == [[1, 2, 3], [4, 5, 6], [7]]
    sizes = {1: 40, 2: 40, 3: 40, 4: 500, 5: 10}
    assert plan_batches([1, 2, 3, 4, 5], sizes, max_count=10, max_bytes=100) == \
        [[1, 2], [3], [4], [5]]


def test_huge_message_travels_alone():
    assert plan_batches([1, 2, 3], {2: 10_000}, max_count=10, max_bytes=100) == [[1], [2], [3]]


def test_watermark_stops_at_the_first_uid_not_done():
    assert watermark(10, [11, 12, 14, 15], {11, 12, 15}) == 12
    assert watermark(10, [11, 12], {11, 12}) == 12
    assert watermark(10, [11, 12], set()) == 10
    assert watermark(10, [3, 9, 11], {11}) == 11   # UIDs at or below the position are ignored


def test_failed_batch_makes_its_uids_suspects_fetched_alone_after_the_others():
    progress = FolderProgress(uidvalidity=1)
    progress.batch_failed([1, 2, 3])
    assert progress.split([1, 2, 3, 4, 5]) == ([4, 5], [1, 2, 3])
    progress.mark_done([1])
    assert progress.split([1, 2, 3, 4, 5]) == ([4, 5], [2, 3])


def test_single_failure_gives_up_after_max_attempts():
    progress = FolderProgress(uidvalidity=1, max_attempts=3)
    assert [progress.single_failed(7) for _ in range(3)] == [False, False, True]


def test_uids_expunged_elsewhere_are_forgotten():
    progress = FolderProgress(uidvalidity=1)
    progress.single_failed(3)
    progress.mark_done([4])
    assert progress.split([5]) == ([5], [])
    assert progress.attempts == {} and progress.done == set()


def test_reset_forgets_everything_of_the_old_uidvalidity():
    progress = FolderProgress(uidvalidity=1)
    progress.mark_done([1, 2])
    progress.batch_failed([3])
    progress.reset(2)
    assert (progress.uidvalidity, progress.done, progress.suspects) == (2, set(), set())


def test_forget_below_keeps_only_uids_above_the_position():
    progress = FolderProgress(uidvalidity=1)
    progress.mark_done([1, 2, 5])
    progress.forget_below(2)
    assert progress.done == {5}


def test_backoff_doubles_up_to_the_cap_and_resets():
    backoff = Backoff(base_s=1, cap_s=8, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, full in zip(delays, [1, 2, 4, 8, 8, 8]):
        assert full / 2 <= delay <= full
    backoff.reset()
    assert backoff.next_delay() <= 1
