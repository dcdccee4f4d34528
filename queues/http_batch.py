"""Group commit for the threaded web process: concurrent edge requests share one Redis write.

Under gunicorn's ``gthread`` workers several requests of one process are in flight at once.
Each would pay RQ's per-job cost (building the job, a MULTI of about ten commands) on its own;
here the first request to submit becomes the batch's leader and writes every submission pending
at that moment with one ``Intake.accept_many`` (one transaction, one ingest job), as soon as
every request in flight has submitted or after ``LINGER_S``, whichever comes first. A lone
request (a sync worker, a quiet moment) is written at once; nobody answers before Redis has
its message, and a Redis failure is raised in every request of the batch (each answers 503).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from queues.intake import Intake, IntakeUnavailable, Submission

LINGER_S = 0.002  # longest the leader waits for the other requests in flight to submit
MAX_BATCH = 50


class Replayed(Exception):
    """The submission's nonce was used before: it was not enqueued."""


@dataclass(frozen=True)
class Nonce:
    """A replay guard: a Redis key looked up (with the batch's other nonces, in one round trip)
    before the batch is written, and set in the same transaction as the enqueue. So a request
    is remembered exactly when it was enqueued: a crash or a Redis failure in between never
    turns the sender's retry into a "replay". Two copies racing in one instant may both be
    enqueued; the worker's dedupe makes that harmless."""
    key: str
    ttl_s: int


@dataclass
class _Slot:
    submission: Submission
    nonce: Nonce | None = None
    done: threading.Event = field(default_factory=threading.Event)
    envelope: dict | None = None
    error: BaseException | None = None


class ThreadGroupCommit:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[_Slot] = []
        self._in_flight = 0
        self._writing = False

    def started(self) -> None:
        """A request that may submit is in flight (``create_app`` calls it for every edge)."""
        with self._cond:
            self._in_flight += 1

    def finished(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    @contextmanager
    def request(self):
        """Count a request as in flight from its start to its answer."""
        self.started()
        try:
            yield
        finally:
            self.finished()

    def submit(self, intake: Intake, submission: Submission, nonce: Nonce | None = None) -> dict:
        """The envelope once Redis has the submission; raises ``Replayed`` or what
        ``accept_many`` raised."""
        slot = _Slot(submission, nonce)
        with self._cond:
            self._pending.append(slot)
            self._cond.notify_all()
            leader = not self._writing
            if leader:
                self._writing = True
                self._cond.wait_for(self._everyone_submitted, timeout=LINGER_S)
        if leader:
            self._lead(intake)
        slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.envelope

    def _everyone_submitted(self) -> bool:
        return len(self._pending) >= min(MAX_BATCH, self._in_flight)

    def _lead(self, intake: Intake) -> None:
        """Write batches until nothing is pending, then hand leadership back."""
        while True:
            with self._cond:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if not batch:
                    self._writing = False
                    return
            _write(intake, batch)


def _write(intake: Intake, batch: list[_Slot]) -> None:
    try:
        batch = _drop_replays(intake, batch)
        marks = [(slot.nonce.key, slot.nonce.ttl_s) for slot in batch if slot.nonce]
        envelopes = (intake.accept_many([slot.submission for slot in batch], marks)
                     if batch else [])
    except BaseException as exc:  # noqa: B902 - every waiting request must learn of it
        for slot in batch:
            slot.error = exc
            slot.done.set()
        return
    for slot, envelope in zip(batch, envelopes):
        slot.envelope = envelope
        slot.done.set()


def _drop_replays(intake: Intake, batch: list[_Slot]) -> list[_Slot]:
    """Look up every nonce of the batch in one round trip; replays are answered at once and
    left out. Raises ``IntakeUnavailable`` when Redis is down."""
    guarded = [slot for slot in batch if slot.nonce]
    if not guarded:
        return batch
    try:
        with intake.redis.pipeline(transaction=False) as pipe:
            for slot in guarded:
                pipe.exists(slot.nonce.key)
            used = pipe.execute()
    except RedisError as exc:
        raise IntakeUnavailable(f"redis: {exc}") from exc
    for slot, seen in zip(guarded, used):
        if seen:
            slot.error = Replayed(slot.nonce.key)
            slot.done.set()
    return [slot for slot in batch if slot.error is None]
