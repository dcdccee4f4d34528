"""`make run` leaves nothing behind: ``python -m gateway.ops.launch`` killed with SIGKILL takes every
process it started with it (honcho, each Procfile process, RQ's schedulers, gunicorn's workers,
the embedded redis-server), the ports are free and a second start serves on the same ports; a
SIGTERM stops everything through the graceful path. Linux only (``/proc``, PR_SET_PDEATHSIG)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from config.supervision import descendants
from tests.integration.harness import (PROJECT_DIR, free_port, kill_group, process_env,
                                       start_worker)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")
START_DEADLINE_S = 240   # ~15 Python processes importing everything on a shared 2-core machine
STOP_DEADLINE_S = 60     # honcho's 5 s grace before SIGKILL, plus a busy machine
QUEUES_WITH_WORKERS = ("email", "form", "chat", "telegram", "outbound")


def running(pids: set[int]) -> set[int]:
    """The pids of ``pids`` still running (a zombie waiting for its reaper has exited)."""
    alive = set()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                alive.add(pid)
        except OSError:
            pass
    return alive


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def wait_for(condition, deadline_s: float, what: str):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"not within {deadline_s} s: {what}")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Launcher:
    """``python -m gateway.ops.launch`` on its own ports and var folder, output into a file."""

    def __init__(self, var_dir: Path, web_port: int, smtp_port: int, log: Path):
        self.var_dir, self.web_port, self.smtp_port, self.log = var_dir, web_port, smtp_port, log
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env.update(TICKETGATE_VAR_DIR=str(var_dir), PORT=str(web_port),
                   SMTP_PORT=str(smtp_port), WEB_CONCURRENCY="1", PYTHONPATH=str(PROJECT_DIR))
        with open(log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "gateway.ops.launch"], env=env,
                                            cwd=PROJECT_DIR, stdout=out, stderr=out)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def serving(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"launcher exited: {self.output()[-3000:]}")
        return self.web_answers() and self.smtp_answers() and self.schedulers_run()

    def web_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/healthz", timeout=5):
                return True
        except OSError:
            return False

    def smtp_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=5) as s:
                return s.recv(3) == b"220"
        except OSError:
            return False

    def schedulers_run(self) -> bool:
        """Every worker holds its queue's scheduler lock: its scheduler process is forked."""
        try:
            with redis.Redis(unix_socket_path=str(self.var_dir / "redis" / "redis.sock")) as conn:
                return all(conn.exists(f"rq:scheduler-lock:{q}") for q in QUEUES_WITH_WORKERS)
        except redis.RedisError:
            return False


@pytest.fixture
def start_serving(tmp_path):
    """Start a launcher and wait until it serves; whatever a failed test leaves is stopped."""
    started = []

    def start(web_port: int, smtp_port: int) -> tuple[Launcher, set[int]]:
        launcher = Launcher(tmp_path / "var", web_port, smtp_port, tmp_path / "launcher.log")
        started.append(launcher)
        wait_for(launcher.serving, START_DEADLINE_S, "the launcher serves")
        return launcher, descendants(launcher.process.pid)
    yield start
    for launcher in started:
        if launcher.process.poll() is None:
            launcher.process.send_signal(signal.SIGTERM)
            launcher.process.wait(STOP_DEADLINE_S)


def test_sigkilled_launcher_leaves_nothing_and_starts_again_on_the_same_ports(start_serving):
    web_port, smtp_port = free_port(), free_port()
    launcher, children = start_serving(web_port, smtp_port)
    assert len(children) >= 20  # honcho, its runners, shells, processes, schedulers, redis
    launcher.process.kill()
    launcher.process.wait()
    wait_for(lambda: not running(children), STOP_DEADLINE_S, "every child exits")
    assert wait_for(lambda: port_free(web_port) and port_free(smtp_port), STOP_DEADLINE_S,
                    "the ports are free")

    again, children = start_serving(web_port, smtp_port)
    again.process.send_signal(signal.SIGTERM)  # the graceful path: honcho stops each process
    again.process.wait(STOP_DEADLINE_S)
    assert "SIGTERM received" in again.output()
    assert wait_for(lambda: not running(children), STOP_DEADLINE_S, "every child exits")


def test_sigkilled_honcho_leaves_nothing_either(start_serving):
    """honcho's helpers ignore SIGTERM and nothing tells its processes: the launcher adopts them
    (subreaper), stops them and exits."""
    launcher, children = start_serving(free_port(), free_port())
    [honcho] = [pid for pid in children if parent_of(pid) == launcher.process.pid
                and b"-m\0honcho\0" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    os.kill(honcho, signal.SIGKILL)
    launcher.process.wait(STOP_DEADLINE_S)
    assert wait_for(lambda: not running(children), STOP_DEADLINE_S, "every child exits")


def test_rq_scheduler_exits_when_its_worker_is_sigkilled(sqlite_runtime, tmp_path):
    worker = start_worker(process_env(sqlite_runtime, tmp_path), "email", burst=False)
    try:
        [scheduler] = wait_for(lambda: descendants(worker.pid), START_DEADLINE_S,
                               "the worker forks its scheduler")
        worker.kill()  # the worker alone, not its process group
        worker.wait()
        assert wait_for(lambda: not running({scheduler}), STOP_DEADLINE_S,
                        "the scheduler exits")
    finally:
        kill_group(worker)
        worker.wait()
