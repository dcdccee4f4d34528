"""SMTP edge throughput and latency next to its ceiling, measured in the same run.

Ceiling: the same aiosmtpd server with a do-nothing handler (answers 250 at once). Edge: our
`gateway.edges.smtp` process (blob write + fsync + RQ enqueue before 250) on the local Redis.
Two client connections, each sending N messages over one session. The edge's CPU per message
(its process's user + system time over each round) is printed per round.

    .venv/bin/python bench/smtp_edge.py --messages 3000
"""
from __future__ import annotations

import argparse
import os
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

import redis

from bench.common import (PROJECT_DIR, bench_env, cpu_seconds, free_port, peak_rss_mb, percentile,
                          wait_port)
from tests.integration.mails import customer_mail

NOOP_SERVER = """
import asyncio, sys
from aiosmtpd.smtp import SMTP
class Noop:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
async def main():
    loop = asyncio.get_running_loop()
    await loop.create_server(lambda: SMTP(Noop(), enable_SMTPUTF8=True), "127.0.0.1", int(sys.argv[1]))
    await asyncio.Event().wait()
asyncio.run(main())
"""


def client(port: int, count: int, latencies: list[float]) -> None:
    raw = customer_mail().as_bytes()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            start = time.perf_counter()
            smtp.sendmail("alice@customer.test", ["support@demo.test"], raw)
            latencies.append(time.perf_counter() - start)


def drive(port: int, per_client: int, clients: int = 2) -> dict:
    latencies: list[float] = []
    threads = [threading.Thread(target=client, args=(port, per_client, latencies))
               for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {"rate": len(latencies) / elapsed, "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000}


def run_server(args: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(args, env=env, cwd=PROJECT_DIR)
    wait_port(port)
    return process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000, help="per run, over 2 clients")
    parser.add_argument("--rounds", type=int, default=5, help="alternating runs of each server")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    redis.Redis.from_url(args.redis).flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        noop_port, edge_port = free_port(), free_port()
        noop = run_server([sys.executable, "-c", NOOP_SERVER, str(noop_port)], bench_env(),
                          noop_port)
        env = bench_env(REDIS_URL=args.redis, SMTP_PORT=str(edge_port),
                        BLOB_DIR=f"{tmp}/blobs", DATABASE_URL=f"sqlite:///{tmp}/unused.db")
        edge = run_server([sys.executable, "-m", "gateway.edges.smtp"], env, edge_port)
        ceiling_runs, edge_runs = [], []
        for _ in range(args.rounds):  # alternate, so drift hits both alike
            before = cpu_seconds(noop.pid)
            ceiling_runs.append(drive(noop_port, args.messages // 2))
            ceiling_runs[-1]["cpu_ms"] = 1000 * (cpu_seconds(noop.pid) - before) / args.messages
            before = cpu_seconds(edge.pid)
            edge_runs.append(drive(edge_port, args.messages // 2))
            edge_runs[-1]["cpu_ms"] = 1000 * (cpu_seconds(edge.pid) - before) / args.messages
            redis.Redis.from_url(args.redis).flushdb()
        peak = peak_rss_mb(edge.pid)
        noop.terminate()
        edge.terminate()
    report("ceiling (do-nothing aiosmtpd)", median(ceiling_runs), median(ceiling_runs))
    report("ticketgate SMTP edge", median(edge_runs), median(ceiling_runs))
    print("edge CPU ms per message, per round: "
          + " ".join(f"{e['cpu_ms']:.2f}" for e in edge_runs)
          + "; the do-nothing aiosmtpd's: " + " ".join(f"{c['cpu_ms']:.2f}" for c in ceiling_runs)
          + f" (load average {os.getloadavg()[0]:.2f})")
    print(f"edge peak RSS {peak:.0f} MiB; ratio per round: "
          + " ".join(f"{e['rate'] / c['rate']:.0%}" for c, e in zip(ceiling_runs, edge_runs)))


def median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]


def report(name: str, result: dict, ceiling: dict) -> None:
    print(f"{name:30s} {result['rate']:7.0f} msg/s  p50 {result['p50_ms']:5.2f} ms  "
          f"p99 {result['p99_ms']:5.2f} ms  ({result['rate'] / ceiling['rate']:.0%} of ceiling)")


if __name__ == "__main__":
    main()
