"""Run an RQ worker on one channel queue: ``python -m workers.run email``.

One queue per worker process: RQ's safe dequeue (a job moves to an intermediate list, never
lost on a crash) is used only then. The worker does not fork per job (``SimpleWorker``): the
fork costs more than a small ingest job. Every worker also runs RQ's scheduler (only one holds
its lock at a time) so retries with backoff fire. A channel's former queue name
(``messenger``) starts its channel's worker, with a deprecation warning; that worker moves jobs
left on the former queue onto its own at every maintenance pass (``queues.former_queues``).
"""
from __future__ import annotations

import argparse
import logging

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker
from sqlalchemy import text

from config.logs import configure_logging
from config.settings import load_settings
from config import supervision
from queues import former_queues
from queues.channels import CHANNEL_QUEUES, FORMER_NAMES, channel_id
from routing import language
from workers.ingest.drain import registry_ttl

# How often a worker looks for jobs abandoned by a killed worker and re-queues them (seconds).
MAINTENANCE_INTERVAL_S = 15
# An idle worker blocks in dequeue for worker_ttl - 15 s and runs maintenance only between
# dequeues, so the TTL is tied to the maintenance interval (RQ's default would be 405 s).
WORKER_TTL_S = MAINTENANCE_INTERVAL_S + 15
# Longest a stopping worker waits for its pub/sub listener thread (seconds); the thread is a
# daemon, so one that has not ended by then dies with the process.
LISTENER_JOIN_S = 2


class IngestWorker(SimpleWorker):
    def clean_registries(self) -> None:
        """RQ's maintenance pass, after moving jobs left on the queues' former names here."""
        for queue in self.queues:
            former_queues.adopt(self.connection, queue.name)
        super().clean_registries()

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        if job.timeout is None or job.timeout < 0:
            return super().get_heartbeat_ttl(job, working_time)
        return registry_ttl(job)  # the same for the jobs an ingest job claims (drain.py)

    def unsubscribe(self) -> None:
        """Stop the pub/sub listener without RQ's up-to-60-s wait at every worker exit.

        RQ sends UNSUBSCRIBE first and stops the listener thread after. When the thread reads
        the server's confirmation before the stop flag is set (a busy machine makes it likely),
        it goes back to waiting up to 60 s (RQ's listen timeout) for a new subscription, and
        redis-py 8's ``stop()`` joins it without a timeout: a burst worker then lingered a
        minute after "done, quitting" (the flaky racing test). So: flag first, then
        UNSUBSCRIBE (its reply ends the thread's read), then a bounded join. A listener that
        sees the flag first closes its connection itself, which ends the subscription on the
        server: UNSUBSCRIBE is then skipped (it would open a new connection) or, if the close
        races the write, its connection error is expected.
        """
        if not self.pubsub_thread:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name,
                      self.pubsub_channel_name)
        self.pubsub_thread.stop(timeout=0)
        if self.pubsub_thread.is_alive() and self.pubsub.connection is not None:
            try:
                self.pubsub.unsubscribe()
            except (RedisConnectionError, OSError, AttributeError) as exc:
                self.log.debug("listener closed its connection first: %s", exc)
        self.pubsub_thread.join(timeout=LISTENER_JOIN_S)


def warm_up(queue: str) -> None:
    """Import the jobs, connect to the store and, on a channel queue, load the language
    model of every workspace that detects languages, before the first job rather than during
    it: a cold first batch took about 1 s more and held up the mail queued behind it."""
    from workers.ingest.job import runtime
    rt = runtime()
    with rt.read_sessions() as session:  # never the write lock: a writer may hold it long
        session.execute(text("SELECT 1"))
    if queue in CHANNEL_QUEUES:
        language.warm_up(*(w.routing.language.candidates for w in rt.config.workspaces
                           if w.routing.language.detect))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queue", choices=CHANNEL_QUEUES + ("outbound", "scheduled")
                        + tuple(FORMER_NAMES))
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    args = parser.parse_args(argv)
    configure_logging("worker")
    queue = channel_id(args.queue)
    if queue != args.queue:
        logging.getLogger(__name__).warning(
            "queue %r is deprecated: running the %r worker (python -m workers.run %s)",
            args.queue, queue, queue)
    supervision.forks_die_with_me()  # RQ's scheduler (a fork) never outlives its worker
    warm_up(queue)
    redis = Redis.from_url(load_settings().redis_url)
    worker = IngestWorker([queue], connection=redis, worker_ttl=WORKER_TTL_S,
                          maintenance_interval=MAINTENANCE_INTERVAL_S)
    worker.work(burst=args.burst, with_scheduler=True, logging_level="INFO")


if __name__ == "__main__":
    main()
