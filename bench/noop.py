"""The ceiling of the queue machinery: how fast N of our workers run a job that does nothing."""
from __future__ import annotations

import subprocess
import sys
import time

import redis
from rq import Queue, Retry

from bench.common import PROJECT_DIR, bench_env

QUEUE = "bench-noop"
WORKER = f"""
import redis
from workers.run import IngestWorker, WORKER_TTL_S
IngestWorker(["{QUEUE}"], connection=redis.Redis.from_url("%s"), worker_ttl=WORKER_TTL_S).work(burst=True, logging_level="WARNING")
"""


def noop(*_args) -> None:
    """A job that does nothing."""


def noop_ceiling(redis_url: str, jobs: int, workers: int) -> float:
    """Jobs/s of ``workers`` processes draining ``jobs`` no-op jobs enqueued like ours."""
    conn = redis.Redis.from_url(redis_url)
    queue = Queue(QUEUE, connection=conn)
    queue.empty()
    retry = Retry(max=3, interval=[1, 2, 5])
    for start in range(0, jobs, 1000):
        queue.enqueue_many([Queue.prepare_data(noop, args=([{}],), retry=retry)
                            for _ in range(min(1000, jobs - start))])
    began = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER % redis_url], env=bench_env(),
                              cwd=PROJECT_DIR) for _ in range(workers)]
    for p in procs:
        p.wait()
    return jobs / (time.perf_counter() - began)
