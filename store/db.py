"""Engine and session factory for SQLite (WAL, embedded default) and PostgreSQL (production).

SQLite: every writing transaction starts with BEGIN IMMEDIATE so a worker's read-then-write
threading decision cannot interleave with another worker's; read sessions use a plain BEGIN.
Writers queue on an flock of ``<database>.writelock`` first: SQLite's own busy handler polls
with sleeps of up to 100 ms, which made two workers slower than one.
PostgreSQL: callers take advisory locks on the thread keys they touch (``lock_keys``), which
serializes only messages of one conversation; ``try_lock_keys`` takes those it can without
waiting (the ingest batch stores the rest in a transaction after).
The SQLite file and its lock file are created private (mode 0600) before SQLite opens them;
SQLite gives its -wal and -shm files the database file's mode.
"""
from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import time

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.private_files import create_private_file, open_private

SQLITE_BUSY_TIMEOUT_S = 30  # seconds a writer waits for the SQLite write lock before failing


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S,
                                                  "factory": LockingConnection})
        _sqlite_immediate_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


class LockingConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions hold an exclusive flock until they end."""

    def __init__(self, database, *args, **kwargs):
        on_disk = database not in (":memory:", "") and not str(database).startswith("file:")
        if on_disk:
            try:
                create_private_file(database)  # an empty file is an empty database to SQLite
            except OSError:  # no such folder, read-only disk: SQLite says so in its own words
                pass
        super().__init__(database, *args, **kwargs)
        self._lock_file = open_private(f"{database}.writelock") if on_disk else None

    def lock_for_write(self) -> None:
        if self._lock_file:
            started = time.perf_counter()
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            _write_lock_waits[0] += time.perf_counter() - started

    def _unlock(self) -> None:
        if self._lock_file:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._unlock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._unlock()

    def close(self) -> None:
        super().close()
        if self._lock_file:
            self._lock_file.close()


_write_lock_waits = [0.0]  # seconds this process's SQLite writers waited for the flock


def write_lock_waited() -> float:
    """Seconds this process's SQLite write transactions have waited for the single writer's
    lock so far (0 on PostgreSQL); callers time a stretch of work by the difference."""
    return _write_lock_waits[0]


def _sqlite_immediate_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        if conn.get_execution_options().get("readonly"):
            conn.exec_driver_sql("BEGIN")
            return
        conn.connection.dbapi_connection.lock_for_write()
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # autoflush off: the pipeline flushes where it needs ids; an automatic flush before every
    # query cost a third of the time per message.
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only: on SQLite they never take the write lock (plain BEGIN)."""
    return session_factory(engine.execution_options(readonly=True))


def lock_keys(session: Session, keys) -> None:
    """Serialize transactions that touch any of ``keys`` (PostgreSQL advisory locks)."""
    if session.get_bind().dialect.name != "postgresql":
        session.connection()  # SQLite: BEGIN IMMEDIATE now serializes the whole transaction
        return
    ids = sorted({_lock_id(k) for k in keys})  # sorted: no deadlocks
    if ids:  # unnest keeps the array's order, so the locks are taken in that order
        session.execute(LOCK_ALL, {"ids": ids})


def try_lock_keys(session: Session, keys) -> set[str]:
    """Those of ``keys`` this transaction now holds, without waiting for any (PostgreSQL: the
    advisory locks another transaction holds are left out; SQLite: all of them, as the
    single writer). A key obtained stays held until the transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        session.connection()  # SQLite: BEGIN IMMEDIATE, the single writer's lock
        return set(keys)
    by_id: dict[int, list[str]] = {}
    for key in keys:
        by_id.setdefault(_lock_id(key), []).append(key)
    if not by_id:
        return set()
    rows = session.execute(TRY_ALL, {"ids": sorted(by_id)})
    return {key for lock_id, obtained in rows if obtained for key in by_id[lock_id]}


LOCK_ALL = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ids AS bigint[])) AS k")
TRY_ALL = text("SELECT k, pg_try_advisory_xact_lock(k) FROM unnest(CAST(:ids AS bigint[])) AS k")


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
