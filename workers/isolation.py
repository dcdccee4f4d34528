"""Per-message isolation: whose failure is it, the message's or the infrastructure's?

A worker handles a batch of messages in one job. When something goes wrong it must decide who
pays for it:

- the **infrastructure** (Redis or the database unreachable or busy, the blob store's disk, a
  remote server that asks us to come back later): ``is_transient``. The job raises and RQ
  retries the whole job with backoff; nothing is quarantined, nothing is lost.
- the **job**: RQ's job timeout, raised inside the job by its death penalty. It is handled by
  ``workers.poison`` (the batch is split), never blamed on the message that happened to run.
- **one message**, for anything else: ``message_failure`` names the quarantine reason
  (``error``, ``too_expensive``) and the rest of the batch goes on.

``cpu_budget`` bounds the CPU time one message's normalizing may take (``too_expensive``).
"""
from __future__ import annotations

import signal
import threading
import traceback
from contextlib import contextmanager

from redis.exceptions import RedisError
from rq.timeouts import BaseTimeoutException
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

DETAIL_CHARS = 2000  # how much of a traceback a quarantine entry keeps


class Transient(Exception):
    """A failure outside the message (a remote server down, the blob store's disk): the job is
    retried later. Channel code raises it ``from`` the original exception."""


class MessageTooExpensive(BaseException):
    """The message used up its CPU budget. A BaseException, like KeyboardInterrupt, so that an
    adapter's own ``except Exception`` fallback cannot swallow it and go on burning CPU."""


# Connection refused or lost, lock or statement timeouts, SQLite's "database is locked",
# PostgreSQL's serialization failures and deadlocks (all OperationalError), an exhausted pool.
TRANSIENT = (Transient, RedisError, OperationalError, InterfaceError, DisconnectionError,
             PoolTimeoutError)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


def is_job_timeout(exc: BaseException) -> bool:
    """RQ's death penalty: raised inside the job when the job (not a message) ran out of time."""
    return isinstance(exc, BaseTimeoutException)


def belongs_to_job(exc: BaseException) -> bool:
    """True for failures that no single message caused: let them propagate out of the job."""
    return is_transient(exc) or is_job_timeout(exc)


def message_failure(exc: BaseException) -> tuple[str, str] | None:
    """(reason, detail) to quarantine one message with; None when ``exc`` is not its fault."""
    if isinstance(exc, MessageTooExpensive):
        return "too_expensive", str(exc)
    if isinstance(exc, MemoryError):
        return "too_expensive", "ran out of memory while normalizing (MemoryError)"
    if not isinstance(exc, Exception) or belongs_to_job(exc):
        return None
    return "error", describe(exc)


def describe(exc: BaseException) -> str:
    """Exception type and message first, then the innermost frames."""
    summary = "".join(traceback.format_exception_only(exc)).strip()
    frames = "".join(traceback.format_exception(exc, limit=-3))
    return f"{summary}\n\n{frames}"[:DETAIL_CHARS]


@contextmanager
def cpu_budget(seconds: float):
    """Raise ``MessageTooExpensive`` in the body once it has used ``seconds`` of CPU time.

    CPU time, not wall time: a busy machine or a slow download does not count against the
    message. It uses ITIMER_PROF/SIGPROF, so it never touches the SIGALRM that RQ's job timeout
    (its death penalty) relies on. Signals reach only the main thread, where RQ's SimpleWorker
    runs jobs; elsewhere (or with ``seconds <= 0``) the body runs unbounded.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum, _frame):
        raise MessageTooExpensive(f"normalizing used more than {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)  # one shot: no second signal after this one
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def clean_text(value: str) -> str:
    """Text any database stores: no NUL (PostgreSQL refuses it) and no lone surrogates."""
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def clean_json(value):
    """``clean_text`` applied to every string (keys included) of a JSON-like value."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value
