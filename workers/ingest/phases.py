"""Where an ingest job's time goes: wall and CPU time per phase, one log line per job.

A job opens a ``Phases`` record (``record``); the code it runs marks its phases with
``phase(name)`` (a no-op outside a record: tests, tools). When the job ends, one line lists
every phase's wall and CPU milliseconds, plus ``between``: the time from the end of this
process's previous job to the start of this one (RQ's dequeue and bookkeeping, and waiting for
work). ``bench.make_run`` sums these lines over a run, so ops can see whether a worker waits
(wall well above CPU: the disk, the lock, the network) or computes.

Phases may nest (the store phase holds the lock phase); each phase's figures include its inner
phases'. CPU time is the process's (``time.process_time``: the blob writer threads of a small
batch included).
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar

from store import db

log = logging.getLogger(__name__)

_current: ContextVar["Phases | None"] = ContextVar("ingest_phases", default=None)
_last_end: list[float] = []  # (wall, cpu) at the end of this process's previous job


class Phases:
    """Wall and CPU seconds per phase name, summed over the job."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall[name] = self.wall.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu

    def line(self, items: int) -> str:
        """``job phases (N item(s)): name wall/cpu ms, ...`` (``bench.make_run`` parses it)."""
        return f"job phases ({items} item(s)): " + ", ".join(
            f"{name} {1000 * self.wall[name]:.2f}/{1000 * self.cpu[name]:.2f}"
            for name in self.wall) + " ms wall/cpu"


@contextmanager
def record(items_of):
    """A job's record: its phases, logged when it ends. ``items_of()`` says, at the end, how
    many items the job handled (claimed jobs included)."""
    phases = Phases()
    token = _current.set(phases)
    wall, cpu = time.perf_counter(), time.process_time()
    if _last_end:
        phases.add("between", wall - _last_end[0], cpu - _last_end[1])
    try:
        yield phases
    finally:
        _current.reset(token)
        end_wall, end_cpu = time.perf_counter(), time.process_time()
        phases.add("job", end_wall - wall, end_cpu - cpu)
        _last_end[:] = [end_wall, end_cpu]
        log.info(phases.line(items_of()))


@contextmanager
def phase(name: str):
    """Time what runs inside under ``name`` in the job's record, if there is one."""
    phases = _current.get()
    if phases is None:
        yield
        return
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        phases.add(name, time.perf_counter() - wall, time.process_time() - cpu)


def add(name: str, wall: float, cpu: float) -> None:
    """Add figures measured elsewhere (e.g. the steps of every item) to the job's record."""
    phases = _current.get()
    if phases is not None:
        phases.add(name, wall, cpu)


@contextmanager
def lock_waits(name: str):
    """Add under ``name`` how long what runs inside waited for SQLite's single writer's lock
    (``store.db.write_lock_waited``; nothing on PostgreSQL)."""
    before = db.write_lock_waited()
    try:
        yield
    finally:
        waited = db.write_lock_waited() - before
        if waited:
            add(name, waited, 0.0)
