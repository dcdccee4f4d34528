"""The whole email path under load: SMTP edge -> Redis -> N RQ worker processes -> store.

Throughput: M generated messages sent over C SMTP connections as fast as they are accepted,
timed from the first SMTP byte to the last message stored, next to the rate at which the same
number of workers run a no-op RQ job (the ceiling of the queue machinery). Latency: a steady
rate for some seconds, then p50/p99 from the edge's accept (received_at) to the stored row.

    .venv/bin/python -m bench.pipeline --db sqlite --messages 10000
    .venv/bin/python -m bench.pipeline --db postgresql --messages 10000
    .venv/bin/python -m bench.pipeline --db sqlite --steady-rate 100 --seconds 30
    .venv/bin/python -m bench.pipeline --tree <a worktree of an earlier commit>  # before/after

``--redis-url`` (a database it flushes) and ``--pg-url`` (a database it wipes) choose the
servers; ``--tree`` runs the edge and the workers of another checkout of the project (the
ceiling and the measuring stay this tree's), to compare two commits in one session.
"""
from __future__ import annotations

import argparse
import os
import pickle
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import redis
from rq import Worker
from sqlalchemy import func, select, text

from bench.common import (PROJECT_DIR, bench_env, cpu_seconds, free_port, peak_rss_mb,
                          percentile, wait_port)
from bench.mailgen import generate
from bench.noop import noop_ceiling
from store.db import make_engine
from store.migrate import upgrade
from store.models import Message, QuarantineEntry

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/14"


def fresh_database(kind: str, tmp: str, pg_url: str = POSTGRES_URL) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp}/bench.db"
    else:
        url = pg_url
        with make_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    return url


def mails(count: int) -> list[bytes]:
    cache = Path(tempfile.gettempdir()) / f"ticketgate-bench-{count}.pickle"
    if not cache.exists():
        cache.write_bytes(pickle.dumps(generate(count)))
    return pickle.loads(cache.read_bytes())


def start_system(env: dict, workers: int, tree: Path = PROJECT_DIR) -> dict:
    edge = subprocess.Popen([sys.executable, "-m", "gateway.edges.smtp"], env=env, cwd=tree)
    wait_port(int(env["SMTP_PORT"]))
    pool = [subprocess.Popen([sys.executable, "-m", "workers.run", "email"], env=env,
                             cwd=tree, stderr=subprocess.DEVNULL) for _ in range(workers)]
    wait_workers_ready(workers, env["REDIS_URL"])
    return {"smtp": edge, **{f"worker{i + 1}": w for i, w in enumerate(pool)}}


def wait_workers_ready(count: int, redis_url: str = REDIS_URL, timeout: float = 30) -> None:
    """Measure the system, not its start-up: wait until every worker has registered."""
    conn = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while Worker.count(connection=conn) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.1)
    time.sleep(1)  # each worker's first maintenance pass and scheduler start


def send_all(port: int, raws: list[bytes], clients: int, pace_s: float = 0.0) -> None:
    def client(chunk):
        began = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for k, raw in enumerate(chunk):
                if pace_s:  # the k-th message at its slot, whatever the last one took
                    time.sleep(max(0.0, began + k * pace_s - time.perf_counter()))
                smtp.sendmail("customer@example.net", ["support@demo.test"], raw)
    threads = [threading.Thread(target=client, args=(raws[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def settled(engine) -> int:
    with engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Message))
                + conn.scalar(select(func.count()).select_from(QuarantineEntry)))


def wait_settled(engine, expected: int, timeout: float = 900) -> float:
    deadline = time.monotonic() + timeout
    while settled(engine) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {settled(engine)} of {expected} settled")
        time.sleep(0.05)
    return time.perf_counter()


def latencies_ms(engine) -> list[float]:
    with engine.connect() as conn:
        rows = conn.execute(select(Message.received_at, Message.created_at)
                            .order_by(Message.id)).all()
    return [(_aware(created) - datetime.fromisoformat(received)).total_seconds() * 1000
            for received, created in rows if received]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)


def run(args) -> None:
    raws = mails(args.messages) if not args.steady_rate else mails(args.steady_rate * args.seconds)
    redis.Redis.from_url(args.redis_url).flushdb()
    tree = Path(args.tree).resolve() if args.tree else PROJECT_DIR
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, tmp, args.pg_url)
        port = free_port()
        env = bench_env(REDIS_URL=args.redis_url, DATABASE_URL=url, SMTP_PORT=str(port),
                        BLOB_DIR=f"{tmp}/blobs", PYTHONPATH=str(tree))
        procs = start_system(env, args.workers, tree)
        cpu_before = {name: cpu_seconds(p.pid) for name, p in procs.items()}
        engine = make_engine(url)
        start = time.perf_counter()
        pace = args.clients / args.steady_rate if args.steady_rate else 0.0
        send_all(port, raws, args.clients, pace)
        sent = time.perf_counter()
        done = wait_settled(engine, len(raws))
        memory = {name: peak_rss_mb(p.pid) for name, p in procs.items()}
        cpu = {name: cpu_seconds(p.pid) - cpu_before[name] for name, p in procs.items()}
        for p in procs.values():
            p.terminate()
            p.wait()
        lat = latencies_ms(engine)
        if args.dump:
            Path(args.dump).write_text("\n".join(f"{v:.1f}" for v in lat))
        report(args, len(raws), start, sent, done, lat, memory, cpu)


def report(args, count, start, sent, done, lat, memory, cpu) -> None:
    rate = count / (done - start)
    print(f"db={args.db} workers={args.workers} clients={args.clients} messages={count} "
          f"tree={args.tree or PROJECT_DIR}; load average {os.getloadavg()[0]:.1f}")
    print(f"  sent in {sent - start:.1f} s; all stored after {done - start:.1f} s: "
          f"{rate:.0f} msg/s end to end")
    print(f"  accept->stored latency: p50 {percentile(lat, 50):.0f} ms, "
          f"p99 {percentile(lat, 99):.0f} ms, max {max(lat):.0f} ms")
    print("  peak RSS MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))
    print(f"  CPU ms per message: {1000 * sum(cpu.values()) / count:.2f} in all: " + ", ".join(
        f"{k} {1000 * v / count:.2f}" for k, v in cpu.items())
        + f"; these processes used {sum(cpu.values()) / (done - start):.2f} cores")
    if not args.steady_rate:
        ceiling = noop_ceiling(args.redis_url, count, args.workers)
        print(f"  no-op RQ ceiling with {args.workers} workers: {ceiling:.0f} jobs/s; "
              f"pipeline = {rate / ceiling:.0%} of it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4, help="concurrent SMTP connections")
    parser.add_argument("--steady-rate", type=int, default=0, help="messages/s; 0 = flat out")
    parser.add_argument("--seconds", type=int, default=30, help="duration of a steady run")
    parser.add_argument("--dump", help="write every latency (ms, in stored order) to this file")
    parser.add_argument("--redis-url", default=REDIS_URL, help="a Redis database it flushes")
    parser.add_argument("--pg-url", default=POSTGRES_URL, help="a database it wipes")
    parser.add_argument("--tree", help="run the edge and workers of this checkout instead")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
