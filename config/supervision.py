"""Nothing outlives the process that started it, even when that one is SIGKILLed.

Linux's ``PR_SET_PDEATHSIG`` asks the kernel to send a signal to a process the moment its
parent exits, however it exits: nothing to poll, nothing the dead parent must do. It survives
``exec`` (set it in a ``preexec_fn``) but not ``fork`` (set it again in the child). Used for
every link of `make run`: the launcher's honcho and embedded redis-server (``preexec``, SIGTERM:
they stop as on Ctrl-C, honcho stopping every process gracefully), and the RQ scheduler a
worker forks (``forks_die_with_me``, SIGKILL: it holds no job).

When honcho itself is killed, its processes lose their parent but nothing tells them (honcho's
helpers ignore SIGTERM): the launcher is a *subreaper* (``PR_SET_CHILD_SUBREAPER``), so they
become its children, and ``stop_descendants`` stops them as honcho would have. Elsewhere than
Linux these calls do nothing.
"""
from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1           # from <linux/prctl.h>
PR_SET_CHILD_SUBREAPER = 36
STOP_GRACE_S = 10              # seconds leftover processes get to stop before SIGKILL
_fork_parent = {"pid": 0}      # who is about to fork (set by the before-fork hook)


@functools.cache
def _libc():
    return ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _prctl(option: int, value: int) -> None:
    libc = _libc()
    if libc is not None and libc.prctl(option, value, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def die_with_parent(sig: int = signal.SIGTERM, parent_pid: int | None = None) -> None:
    """Have the kernel send ``sig`` to this process when its parent exits.

    ``parent_pid``: the parent as the caller knew it; if this process has another parent by
    now, that one died before the request was made, and ``sig`` is sent at once."""
    if _libc() is None:
        return
    _prctl(PR_SET_PDEATHSIG, int(sig))
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def preexec(sig: int = signal.SIGTERM):
    """A ``preexec_fn`` for ``subprocess.Popen``: the child gets ``sig`` when we exit."""
    parent, _ = os.getpid(), _libc()  # load libc before the fork, not in the child
    return functools.partial(die_with_parent, sig, parent)


def forks_die_with_me(sig: int = signal.SIGKILL) -> None:
    """Every process forked from now on (RQ's scheduler) gets ``sig`` when its parent exits.

    SIGKILL by default: a worker stopping normally stops its scheduler itself (SIGTERM, then
    waits for it), so this signal only reaches a scheduler whose worker vanished, which has no
    job to finish. With SIGTERM here tests/integration/test_database_outage.py hung in 4 runs of
    4 (a scheduler left waiting on a lock, never exiting; RQ's SIGTERM handler makes Redis calls
    from inside a signal handler); SIGKILL runs no handler."""
    _libc()
    os.register_at_fork(before=lambda: _fork_parent.update(pid=os.getpid()),
                        after_in_child=lambda: die_with_parent(sig, _fork_parent["pid"]))


def become_subreaper() -> None:
    """Orphans among our descendants become our children instead of init's."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def descendants(pid: int) -> set[int]:
    """Every running process below ``pid`` (from /proc; empty elsewhere than Linux)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError):  # gone meanwhile
            continue
        if state != "Z":
            parents.setdefault(int(ppid), set()).add(int(stat.parent.name))
    found, frontier = set(), {pid}
    while frontier:
        frontier = set().union(*(parents.get(p, set()) for p in frontier)) - found
        found |= frontier
    return found


def stop_descendants(keep: set[int], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM every descendant but ``keep`` (and theirs) once (a second SIGTERM makes an RQ
    worker drop its job), SIGKILL those alive after ``grace_s``; reap our children among them."""
    spared = set(keep).union(*(descendants(pid) for pid in keep))
    started, told = time.monotonic(), set()
    while (left := descendants(os.getpid()) - spared) and time.monotonic() < started + 2 * grace_s:
        late = time.monotonic() > started + grace_s
        for pid in left if late else left - told:
            _signal(pid, signal.SIGKILL if late else signal.SIGTERM)
        told |= left
        time.sleep(0.1)
        _reap(left)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child (a grandchild): its parent reaps it
            pass
