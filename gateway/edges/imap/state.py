"""The pure bookkeeping of one polled folder: which UIDs to fetch, in which batches, and how far
the stored position may advance. No I/O here, so every rule is unit-tested without a server.

The stored position is (UIDVALIDITY, last UID durably enqueued). A different UIDVALIDITY means
the folder was recreated and its UIDs mean something else: the position restarts at 0 and the
whole folder is fetched again (the pipeline's dedupe by Message-ID + content hash drops what was
already stored). ``\\Seen`` and dates are never used.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

FETCH_ATTEMPTS = 3          # a UID whose FETCH fails this often is quarantined and skipped
BATCH_MESSAGES = 100        # messages per FETCH and per Redis transaction
BATCH_BYTES = 20 * 1024 * 1024  # and at most this many bytes (one message may exceed it alone)


@dataclass(frozen=True)
class Position:
    """What the store remembers of one folder."""
    uidvalidity: int
    last_uid: int


def reconcile(stored: Position, server_uidvalidity: int) -> tuple[Position, bool]:
    """The position to continue from, and whether the folder was recreated since last time.

    A first sight (nothing stored yet, uidvalidity 0) starts at UID 0 and is no "change".
    """
    if stored.uidvalidity == server_uidvalidity:
        return stored, False
    return Position(server_uidvalidity, 0), stored.uidvalidity != 0


def search_criteria(last_uid: int) -> list[str]:
    """SEARCH criteria for every UID after ``last_uid`` (``n:*`` also matches the highest UID
    when it is below n, so callers filter with ``uids_after``)."""
    return ["UID", f"{last_uid + 1}:*"]


def uids_after(uids, last_uid: int) -> list[int]:
    return sorted({int(u) for u in uids if int(u) > last_uid})


def plan_batches(uids: list[int], sizes: dict[int, int], max_count: int = BATCH_MESSAGES,
                 max_bytes: int = BATCH_BYTES) -> list[list[int]]:
    """Split ``uids`` (in order) into batches of at most ``max_count`` messages and about
    ``max_bytes`` bytes; a message larger than ``max_bytes`` travels alone. Unknown sizes
    count as 0."""
    batches: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if current and (len(current) >= max_count or current_bytes + size > max_bytes):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(uid)
        current_bytes += size
    if current:
        batches.append(current)
    return batches


def watermark(last_uid: int, uids: list[int], done: set[int]) -> int:
    """The highest UID the stored position may move to: every listed UID up to it is done.

    A UID still failing holds the position back (so it is never lost), while the UIDs after it
    are enqueued anyway (so it blocks nobody); they are re-fetched after a restart and dropped
    as duplicates by the pipeline.
    """
    mark = last_uid
    for uid in sorted(u for u in uids if u > last_uid):
        if uid not in done:
            break
        mark = uid
    return mark


@dataclass
class FolderProgress:
    """In-memory progress above the stored position, kept across reconnects of one poller."""
    uidvalidity: int = 0
    done: set[int] = field(default_factory=set)        # enqueued (+ post-action) or given up
    suspects: set[int] = field(default_factory=set)    # in a batch whose FETCH failed
    attempts: dict[int, int] = field(default_factory=dict)
    max_attempts: int = FETCH_ATTEMPTS

    def reset(self, uidvalidity: int) -> None:
        """Forget everything: another UIDVALIDITY's UIDs mean other messages."""
        self.uidvalidity = uidvalidity
        self.done.clear()
        self.suspects.clear()
        self.attempts.clear()

    def split(self, uids: list[int]) -> tuple[list[int], list[int]]:
        """(UIDs to fetch in batches, suspects to fetch one at a time after them).

        UIDs gone from the folder (expunged by someone else) are forgotten.
        """
        present = set(uids)
        self.suspects &= present
        self.attempts = {u: n for u, n in self.attempts.items() if u in present}
        self.done = {u for u in self.done if u in present}
        todo = [u for u in uids if u not in self.done]
        return [u for u in todo if u not in self.suspects], [u for u in todo if u in self.suspects]

    def batch_failed(self, batch: list[int]) -> None:
        """A multi-message FETCH failed: its UIDs are fetched one by one from now on."""
        self.suspects.update(batch)

    def single_failed(self, uid: int) -> bool:
        """A one-message FETCH failed; True when it has failed often enough to give up."""
        self.suspects.add(uid)
        self.attempts[uid] = self.attempts.get(uid, 0) + 1
        return self.attempts[uid] >= self.max_attempts

    def mark_done(self, uids) -> None:
        for uid in uids:
            self.done.add(uid)
            self.suspects.discard(uid)
            self.attempts.pop(uid, None)

    def forget_below(self, last_uid: int) -> None:
        """Drop what the stored position now covers (keeps the sets small)."""
        self.done = {u for u in self.done if u > last_uid}


@dataclass
class Backoff:
    """Exponential backoff with jitter for reconnects: base, 2 base, 4 base ... up to cap."""
    base_s: float = 1.0
    cap_s: float = 300.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        delay = min(self.cap_s, self.base_s * (2 ** self.failures))
        self.failures += 1
        return delay * (0.5 + self.rng.random() / 2)

    def reset(self) -> None:
        self.failures = 0
