"""What claiming costs a worker: CPU per claimed job for the claim and start, and the finish.

100 one-envelope ingest jobs queued behind a leader (payloads are not stored: only RQ's and the
drain's bookkeeping runs), claimed with ``workers.ingest.drain.claim`` and finished as the
leader's batch finishes them, five times, on the Redis database given (flushed first).

    .venv/bin/python -m bench.drain_cost --redis-url redis://127.0.0.1:6379/14
"""
from __future__ import annotations

import argparse
import time

import redis
from rq import Queue
from rq.job import Job

from queues.intake import Intake
from workers.ingest import drain

JOBS = 100
ROUNDS = 5


def queued_leader(conn: redis.Redis) -> Job:
    conn.flushdb()
    intake = Intake(conn)
    for number in range(JOBS + 1):
        intake.accept("email", "demo", "smtp", b"mail %d" % number)
    queue = Queue("email", connection=conn)
    leader = Job.fetch(conn.lpop(queue.key).decode(), connection=conn)
    leader.worker_name = "bench"
    return leader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="a Redis database this run may flush")
    conn = redis.Redis.from_url(parser.parse_args().redis_url)
    claiming = finishing = 0.0
    commands = 0
    for _ in range(ROUNDS):
        leader = queued_leader(conn)
        started = time.process_time()
        absorbed = drain.claim(conn, leader, 1)
        claimed = time.process_time()
        with conn.pipeline() as pipe:
            absorbed.finish(pipe, ["created"] * len(absorbed.envelopes))
            commands += len(pipe)
            pipe.execute()
        finishing += time.process_time() - claimed
        claiming += claimed - started
    jobs = JOBS * ROUNDS
    print(f"{jobs} claimed jobs (batches of {JOBS}): claim and start "
          f"{1000 * claiming / jobs:.2f} ms CPU per job, finish {1000 * finishing / jobs:.2f} ms "
          f"CPU and {commands / jobs:.0f} Redis commands per job")


if __name__ == "__main__":
    main()
