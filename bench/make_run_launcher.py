"""The process tree of ``bench.make_run``: the real launcher (``python -m gateway.ops.launch``)
started with `make run`'s defaults in a var folder of its own, its processes named by what they
run, their CPU time and peak RSS read from /proc, and its stop as Ctrl-C would."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from rq import Worker

from bench.common import (PROJECT_DIR, bench_env, cpu_seconds, free_port, peak_rss_mb,
                          process_tree, wait_port)

# the launcher's output (one file per bench process: several may run on one machine)
LOG_FILE = Path(tempfile.gettempdir()) / f"ticketgate-make-run-{os.getpid()}.log"


class Launcher:
    """``python -m gateway.ops.launch`` in a var folder of its own; stopped as Ctrl-C would."""

    def __init__(self, var_dir: Path, database_url: str | None, email_workers: int | None,
                 batch_max: int | None = None):
        self.smtp_port, self.web_port = free_port(), free_port()
        self.env = bench_env(TICKETGATE_VAR_DIR=str(var_dir), SMTP_PORT=str(self.smtp_port),
                             PORT=str(self.web_port))
        for name in ("REDIS_URL", "DATABASE_URL", "BLOB_DIR", "EMAIL_WORKERS", "INGEST_BATCH_MAX"):
            self.env.pop(name, None)  # `make run` defaults, whatever this shell has set
        if database_url:
            self.env["DATABASE_URL"] = database_url
        if email_workers:
            self.env["EMAIL_WORKERS"] = str(email_workers)
        if batch_max:
            self.env["INGEST_BATCH_MAX"] = str(batch_max)
        self.database_url = database_url or f"sqlite:///{var_dir / 'ticketgate.db'}"
        self.redis_url = f"unix://{var_dir / 'redis' / 'redis.sock'}"
        self.log = open(LOG_FILE, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "gateway.ops.launch"],
                                        env=self.env, cwd=PROJECT_DIR, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 90) -> int:
        """Wait until the SMTP edge listens and every RQ worker registered; return their count."""
        wait_port(self.smtp_port, timeout)
        deadline = time.monotonic() + timeout
        expected = sum(1 for _ in self.workers())
        while True:
            try:
                registered = Worker.count(connection=redis.Redis.from_url(self.redis_url))
            except redis.RedisError:
                registered = 0
            if registered >= expected and expected:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{registered} of {expected} workers registered")
            time.sleep(0.2)
            expected = sum(1 for _ in self.workers())
        time.sleep(2)  # each worker's first maintenance pass and scheduler start
        return registered

    def tree(self) -> list[int]:
        """The launcher and every process below it."""
        return list(self.parents())

    def parents(self) -> dict[int, int]:
        """Every process of the launcher's tree -> its parent."""
        return process_tree(self.process.pid)

    def workers(self):
        """The RQ worker processes (not their schedulers, forks with the same command line)."""
        parents = self.parents()
        return (pid for pid, parent in parents.items() if _is_worker(pid)
                and not _is_worker(parent))

    def email_workers(self) -> int:
        return sum(1 for pid in self.workers() if _cmdline(pid).endswith(b"email\0"))

    def output(self) -> bytes:
        """What the launcher's processes printed (after ``stop``)."""
        return LOG_FILE.read_bytes()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the whole tree's live processes."""
        return sum(self.cpu_by_process().values())

    def cpu_by_process(self) -> dict[tuple[int, str], float]:
        """(pid, name) -> CPU seconds used so far, for every process of the tree."""
        found = {}
        for pid, parent in self.parents().items():
            seconds = cpu_seconds(pid)
            if seconds is not None:
                found[(pid, _kind(pid, parent) or "other (shells, honcho)")] = seconds
        return found

    def peak_rss(self) -> list[tuple[str, float]]:
        """(process, peak RSS MiB) for every process of the tree but shells and honcho helpers."""
        rows = []
        for pid, parent in self.parents().items():
            name = _kind(pid, parent)
            if name:
                rows.append((name, peak_rss_mb(pid)))
        return sorted(rows)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def _kind(pid: int, parent: int) -> str:
    """What a process of the tree is ("" for shells and honcho's helpers)."""
    if _is_worker(pid) and _is_worker(parent):
        return "rq scheduler"
    return _name(_cmdline(pid))


def _is_worker(pid: int) -> bool:
    return b"workers.run\0" in _cmdline(pid)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _name(cmdline: bytes) -> str:
    args = [a.decode(errors="replace") for a in cmdline.split(b"\0") if a]
    if not args:
        return ""
    if "redis-server" in args[0]:
        return "redis-server"
    if "-m" in args:
        module = args[args.index("-m") + 1]
        rest = args[args.index("-m") + 2:]
        if module == "workers.run":
            return f"worker {rest[0]}"
        return module
    if "gunicorn" in " ".join(args[:2]):
        return "web (gunicorn)"
    return ""
