"""The processes ``bench.multihost`` runs beside the workers and how it starts and stops them:
the dedicated redis-server, the socat forwarder to PostgreSQL, the email workers (in their
network namespaces or on the host), and the sampling of the PostgreSQL backends that serve
them."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import redis
from rq import Worker
from sqlalchemy import make_url, text

from bench.common import PROJECT_DIR
from bench.netns import Network
from config import supervision
from gateway.ops.embedded_redis import server_binary, wait_ready

MONITOR_APP = "tgbench-monitor"  # application_name of this script's own PostgreSQL sessions
START_TIMEOUT_S = 90          # longest the workers may take to start (a busy machine is slow)
STOP_GRACE_S = 15             # seconds a worker gets to stop before SIGKILL


def start_redis(folder: Path, bind_ip: str, port: int, aof: str) -> subprocess.Popen:
    folder.mkdir(mode=0o700)
    persistence = ["--appendonly", "yes", "--appendfsync", aof] if aof != "no" else []
    args = [server_binary(), "--dir", str(folder), "--port", str(port),
            "--bind", "127.0.0.1", bind_ip, "--protected-mode", "no", "--save", "",
            *persistence, "--maxmemory-policy", "noeviction",
            "--logfile", str(folder / "redis.log")]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=supervision.preexec())
    wait_ready(f"redis://127.0.0.1:{port}/0", process)
    return process


def start_forwarder(bind_ip: str, port: int, target: str) -> subprocess.Popen:
    """socat: one forked copy per connection (the workers' pooled connections live long)."""
    process = subprocess.Popen(
        ["socat", f"TCP-LISTEN:{port},bind={bind_ip},reuseaddr,fork", f"TCP:{target}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=supervision.preexec())
    wait_tcp(bind_ip, port)
    return process


def wait_tcp(host: str, port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_workers(net: Network | None, hosts: int, per_host: int, env: dict,
                  logs: Path) -> list[subprocess.Popen]:
    """`ip netns exec` execs the worker itself: each Popen is the worker process.
    Without ``net`` (--on-host) the workers run in this machine's own network namespace."""
    workers = []
    for i in range(1, hosts + 1):
        inside = ["ip", "netns", "exec", net.namespace(i)] if net else []
        for k in range(per_host):
            with open(logs / f"worker-h{i}-{k}.log", "wb") as log:
                workers.append(subprocess.Popen(
                    [*inside, sys.executable, "-m", "workers.run", "email"], env=env,
                    cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=log,
                    preexec_fn=supervision.preexec()))
    return workers


def wait_suspended(conn: redis.Redis, count: int, workers: list[subprocess.Popen]) -> None:
    """Every worker registered and waiting on the suspension (it looks once a second)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while sum(w.get_state() == "suspended" for w in Worker.all(connection=conn)) < count:
        if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
            raise RuntimeError("workers did not start (their logs are in the run's folder)")
        time.sleep(0.2)


def with_app_name(url: str) -> str:
    """``url`` with this script's application_name, so PostgresBackends leaves it out."""
    named = make_url(url).update_query_dict({"application_name": MONITOR_APP})
    return named.render_as_string(hide_password=False)


class PostgresBackends:
    """The server processes serving every session but this script's own, and what they were
    doing each time they were looked at: running, waiting on a lock or on I/O, idle in a
    transaction (the worker is computing or waiting for Redis) or idle."""
    QUERY = text("SELECT pid, state, wait_event_type FROM pg_stat_activity "
                 "WHERE datname = current_database() AND backend_type = 'client backend' "
                 "AND application_name <> :me")

    def __init__(self, engine):
        self.engine = engine
        self.states: Counter = Counter()

    def __call__(self) -> list[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(self.QUERY, {"me": MONITOR_APP}).all()
        self.states.update(self.state(state, wait) for _pid, state, wait in rows)
        return [pid for pid, _state, _wait in rows]

    @staticmethod
    def state(state: str | None, wait: str | None) -> str:
        if state == "active":
            return {"Lock": "lock", "LWLock": "lock", "IO": "I/O"}.get(wait or "", "running")
        return "idle in transaction" if state and state.startswith("idle in") else "idle"

    def shares(self) -> dict[str, float]:
        total = sum(self.states.values()) or 1
        return {name: n / total for name, n in self.states.most_common()}
