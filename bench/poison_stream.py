"""End-to-end rate of a mail stream with 1 % poison messages, next to the same stream clean.

Both streams go SMTP edge -> Redis -> two worker processes -> store, in the same run, in
alternating rounds (the machine's speed drifts), each round on a fresh database and Redis db.
The poisoned stream is the clean one with every 100th mail marked (``X-Test-Fault``): the
email adapter raises on it (quarantined ``error``), or, with ``--burner-every N``, one poison
in N burns CPU until the per-message budget stops it (``too_expensive``). The workers run the
fault injector of the tests (``tests/integration/fault_worker.py``) in both streams, so both
pay for it alike.

Reported, median of the rounds: messages/s of each stream (first SMTP byte to the last message
stored or quarantined) and messages per CPU second of the workers (what the machine's load
does not distort), their ratios (target: at least 90 %), and clean messages lost (target: 0).

    .venv/bin/python -m bench.poison_stream --messages 2000 --db sqlite \\
        --redis-url redis://127.0.0.1:6379/1
    .venv/bin/python -m bench.poison_stream --messages 2000 --db postgresql \\
        --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test_a
    .venv/bin/python -m bench.poison_stream --messages 2000 --burner-every 4 --budget 1
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

import redis
from rq import Worker
from sqlalchemy import func, select, text

from bench.common import PROJECT_DIR, bench_env, cpu_seconds, free_port, wait_port
from bench.pipeline import mails, send_all, wait_settled
from store.db import make_engine
from store.migrate import upgrade
from store.models import Message, QuarantineEntry

POISON_EVERY = 100          # one mail in this many is poison (1 %)
WORKER = "tests.integration.fault_worker"


def poisoned(raws: list[bytes], burner_every: int) -> tuple[list[bytes], int]:
    """The stream with every POISON_EVERY-th mail marked, one poison in ``burner_every`` (0:
    none) a CPU burner; returns it and the clean count."""
    out, poison = [], 0
    for index, raw in enumerate(raws):
        if index % POISON_EVERY == POISON_EVERY // 2:
            burner = burner_every and poison % burner_every == burner_every - 1
            kind = b"burn" if burner else b"raise"
            raw, poison = b"X-Test-Fault: " + kind + b"\r\n" + raw, poison + 1
        out.append(raw)
    return out, len(raws) - poison


def fresh_database(args, tmp: str) -> str:
    url = f"sqlite:///{tmp}/bench.db" if args.db == "sqlite" else args.postgres_url
    if args.db == "postgresql":
        with make_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    return url


def start_system(args, env: dict) -> list[subprocess.Popen]:
    procs = [subprocess.Popen([sys.executable, "-m", "gateway.edges.smtp"], env=env, cwd=PROJECT_DIR)]
    wait_port(int(env["SMTP_PORT"]))
    procs += [subprocess.Popen([sys.executable, "-m", WORKER, "email"], env=env, cwd=PROJECT_DIR,
                               stderr=subprocess.DEVNULL) for _ in range(args.workers)]
    conn = redis.Redis.from_url(args.redis_url)
    deadline = time.monotonic() + 60
    while Worker.count(connection=conn) < args.workers:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.1)
    time.sleep(1)  # each worker's first maintenance pass
    return procs


def worker_cpu_s(procs: list[subprocess.Popen]) -> float:
    """CPU seconds the worker processes used so far (procs[0] is the SMTP edge): the machine's
    load does not inflate it, unlike wall time."""
    return sum(cpu_seconds(proc.pid) or 0.0 for proc in procs[1:])


def one_round(args, raws: list[bytes]) -> dict:
    redis.Redis.from_url(args.redis_url).flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args, tmp)
        port = free_port()
        env = bench_env(REDIS_URL=args.redis_url, DATABASE_URL=url, SMTP_PORT=str(port),
                        BLOB_DIR=f"{tmp}/blobs", MESSAGE_CPU_BUDGET_S=str(args.budget))
        procs = start_system(args, env)
        engine = make_engine(url)
        try:
            cpu_before, start = worker_cpu_s(procs), time.perf_counter()
            send_all(port, raws, args.clients)
            done = wait_settled(engine, len(raws))
            cpu = worker_cpu_s(procs) - cpu_before
            return {"rate": len(raws) / (done - start), "cpu_rate": len(raws) / cpu,
                    **outcome(engine)}
        finally:
            for p in procs:
                p.terminate()
                p.wait()
            engine.dispose()


def outcome(engine) -> dict:
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(Message))
        reasons = Counter(conn.scalars(select(QuarantineEntry.reason)))
    return {"stored": stored, "reasons": reasons}


def run(args) -> None:
    clean = mails(args.messages)
    dirty, clean_count = poisoned(clean, args.burner_every)
    results: dict[str, list[dict]] = {"clean": [], "poisoned": []}
    streams = [("clean", clean), ("poisoned", dirty)]
    for number in range(args.rounds):
        for name, raws in streams[::1 if number % 2 == 0 else -1]:  # alternate the order
            results[name].append(one_round(args, raws))
            r = results[name][-1]
            print(f"round {number + 1} {name}: {r['rate']:.0f} msg/s, {r['cpu_rate']:.0f} msg "
                  f"per worker CPU second, stored {r['stored']}, quarantined "
                  f"{dict(r['reasons'])}", flush=True)
    report(args, results, clean_count)


def report(args, results: dict, clean_count: int) -> None:
    lost = max(clean_count - r["stored"] for r in results["poisoned"])
    print(f"db={args.db} workers={args.workers} clients={args.clients} messages="
          f"{args.messages} poison={args.messages - clean_count} (burners: 1 in "
          f"{args.burner_every or 'none'}) budget={args.budget} s rounds={args.rounds}")
    for key, unit in (("rate", "msg/s end to end"), ("cpu_rate", "msg per worker CPU s")):
        clean = statistics.median(r[key] for r in results["clean"])
        dirty = statistics.median(r[key] for r in results["poisoned"])
        print(f"  {unit}: clean {clean:.0f}, poisoned {dirty:.0f} = {dirty / clean:.0%}")
    print(f"  clean messages lost: {lost}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16, help="concurrent SMTP connections")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each stream")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="MESSAGE_CPU_BUDGET_S of the workers, both streams")
    parser.add_argument("--burner-every", type=int, default=0,
                        help="one poison in this many burns CPU up to the budget (0: none)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/1")
    parser.add_argument("--postgres-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/test_a")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
