"""A process ends when the process that started it ends, even when that one is SIGKILLed.

Linux's ``PR_SET_PDEATHSIG`` asks the kernel to send a signal to a process the moment its
parent exits, however it exits: nothing to poll, nothing the dead parent must do. It survives
``exec`` (set it in a ``preexec_fn``) but not ``fork`` (set it again in the child). Used for
every link of `make run`: the launcher's honcho and embedded redis-server (``preexec``), and
the RQ scheduler a worker forks (``forks_die_with_me``). SIGTERM, not SIGKILL: a process told
to stop this way stops as on Ctrl-C, finishing the job it holds. Elsewhere than Linux these
calls do nothing.
"""
from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_fork_parent = {"pid": 0}  # who is about to fork (set by the before-fork hook)


@functools.cache
def _libc():
    return ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent(sig: int = signal.SIGTERM, parent_pid: int | None = None) -> None:
    """Have the kernel send ``sig`` to this process when its parent exits.

    ``parent_pid``: the parent as the caller knew it; if this process has another parent by
    now, that one died before the request was made, and ``sig`` is sent at once."""
    libc = _libc()
    if libc is None:
        return
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def preexec(sig: int = signal.SIGTERM):
    """A ``preexec_fn`` for ``subprocess.Popen``: the child gets ``sig`` when we exit."""
    parent, _ = os.getpid(), _libc()  # load libc before the fork, not in the child
    return functools.partial(die_with_parent, sig, parent)


def forks_die_with_me(sig: int = signal.SIGTERM) -> None:
    """Every process forked from now on (RQ's scheduler, ...) gets ``sig`` when its parent
    exits."""
    _libc()
    os.register_at_fork(before=lambda: _fork_parent.update(pid=os.getpid()),
                        after_in_child=lambda: die_with_parent(sig, _fork_parent["pid"]))
