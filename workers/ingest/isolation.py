"""Per-message isolation: whose failure is it, the message's or the infrastructure's?

A worker handles a batch of messages in one job. When something goes wrong it must decide who
pays for it:

- the **infrastructure** (Redis or the database unreachable or busy, the blob store's disk, a
  remote server that asks us to come back later): ``is_transient``. The job raises and RQ
  retries the whole job with backoff; nothing is quarantined, nothing is lost. A database
  error is judged by the driver's code (PostgreSQL's SQLSTATE class, SQLite's result code),
  not by its Python class: an OperationalError can also be bound to the input.
- the **job**: RQ's job timeout, raised inside the job by its death penalty. It is handled by
  ``workers.ingest.poison`` (the batch is split), never blamed on the message that happened to run.
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
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

DETAIL_CHARS = 2000  # how much of a traceback a quarantine entry keeps


class Transient(Exception):
    """A failure outside the message (a remote server down, the blob store's disk): the job is
    retried later. Channel code raises it ``from`` the original exception."""


class MessageTooExpensive(BaseException):
    """The message used up its CPU budget. A BaseException, like KeyboardInterrupt, so that an
    adapter's own ``except Exception`` fallback cannot swallow it and go on burning CPU."""


TRANSIENT = (Transient, RedisError, DisconnectionError, PoolTimeoutError)
# PostgreSQL error classes (the first two characters of SQLSTATE) that pass: connection
# exception, transaction rollback (serialization failure, deadlock), insufficient resources,
# object not in prerequisite state (lock not available), operator intervention (shutdown,
# statement timeout), system error. Not: 54 program limit exceeded (say, an index row too
# large), which the same message hits again on every retry, though it is an OperationalError.
TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "55", "57", "58")
# SQLite result codes that pass (extended codes such as SQLITE_IOERR_WRITE start with these).
# Not: SQLITE_ERROR ("too many SQL variables", ...) or SQLITE_TOOBIG, bound to the input.
TRANSIENT_SQLITE_ERRORS = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL",
                           "SQLITE_CANTOPEN", "SQLITE_NOMEM", "SQLITE_PROTOCOL")


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError):
        return _database_transient(exc)
    return isinstance(exc, TRANSIENT)


def _database_transient(exc: DBAPIError) -> bool:
    """The database is down or busy, judged by the driver's error code where it gives one."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg
    if sqlstate:
        return sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES
    sqlite_error = getattr(exc.orig, "sqlite_errorname", None)  # sqlite3
    if sqlite_error:
        return sqlite_error.startswith(TRANSIENT_SQLITE_ERRORS)
    return isinstance(exc, (OperationalError, InterfaceError))  # no code: no connection at all


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
