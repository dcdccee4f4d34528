"""Where a worker's time goes: batches of 100 mails through ``ingest_with``, phase by phase.

One process, no RQ: the batch is prepared (raw payloads into the blob store, the adapter),
stored (one transaction), routed (a transaction per new ticket, ``tickets.assign``), then the
acknowledgement hooks and metrics run. Wall and CPU time per message of each phase, over
``--batches`` batches after a warm-up batch, on a fresh SQLite file (or ``--database-url``)
and the Redis database given (flushed first).

    .venv/bin/python -m bench.ingest_phases --redis-url redis://127.0.0.1:6379/14
    .venv/bin/python -m bench.ingest_phases --profile 40   # + cProfile of prepare and store
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time

BATCH = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="a Redis database this run may flush")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile the prepare and store phases: the N costliest "
                             "functions by own time and by cumulative time")
    parser.add_argument("--profile-out", help="with --profile: also save the raw profile "
                        "here (for pstats or snakeviz)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="ticketgate-phases-")
    os.environ.update(REDIS_URL=args.redis_url, BLOB_DIR=f"{tmp}/blobs",
                      DATABASE_URL=args.database_url or f"sqlite:///{tmp}/phases.db")
    run(args.batches, args.profile, args.profile_out)


PROFILED = ("prepare_batch", "store_items")


def run(batches: int, profile: int = 0, profile_out: str | None = None) -> None:
    import redis
    from rq.job import Job

    from bench.make_run import corpus
    from queues.intake import Intake, Submission
    from queues.runtime import runtime
    from store.migrate import upgrade
    from workers.ingest import job

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    upgrade(os.environ["DATABASE_URL"])
    rt = runtime()
    raws = corpus(3000)

    def batch(number: int) -> list[dict]:
        envelopes = Intake(rt.redis).accept_many(
            [Submission("email", "demo", "smtp", raw)
             for raw in raws[number * BATCH:(number + 1) * BATCH]])
        return Job.fetch(envelopes[0]["job_id"], connection=rt.redis).args[0]

    job.ingest_with(rt, batch(0))  # warm-up: imports, caches, the workspace row
    phases: dict[str, list[float]] = {}
    profiler = cProfile.Profile() if profile else None
    for name in ("prepare_batch", "store_items", "route_items", "after_ingest",
                 "record_metrics"):
        function = getattr(job, name)
        if profiler is not None and name in PROFILED:
            function = _profiled(profiler, function)
        setattr(job, name, _timed(phases.setdefault(name, [0.0, 0.0]), function))
    for number in range(1, batches + 1):
        job.ingest_with(rt, batch(number))
    messages = batches * BATCH
    print(f"{messages} mails in batches of {BATCH}, {os.environ['DATABASE_URL'].split(':')[0]}; "
          f"load average {os.getloadavg()[0]:.1f}")
    for name, (wall, cpu) in phases.items():
        print(f"  {name:15} wall {1000 * wall / messages:5.2f} ms/msg, "
              f"CPU {1000 * cpu / messages:5.2f} ms/msg")
    if profiler is not None:  # the profiler's own overhead inflates these phases' times
        stats = pstats.Stats(profiler)
        if profile_out:
            stats.dump_stats(profile_out)
        for order in ("tottime", "cumulative"):
            print(f"\nprepare + store, by {order} (profiled: slower than the figures above)")
            stats.sort_stats(order).print_stats(profile)


def _profiled(profiler: cProfile.Profile, function):
    def profiled(*args, **kwargs):
        profiler.enable()
        try:
            return function(*args, **kwargs)
        finally:
            profiler.disable()
    return profiled


def _timed(totals: list[float], function):
    def timed(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            totals[0] += time.perf_counter() - wall
            totals[1] += time.process_time() - cpu
    return timed


if __name__ == "__main__":
    main()
