"""Replay what failed, after a fix: quarantine entries and jobs in RQ's failed registries.

    python -m queues.replay quarantine (--id N | --all) [--workspace slug]
    python -m queues.replay failed [--queue email|outbound]

A quarantine entry keeps the envelope it was queued with; replaying puts that envelope back on its
channel queue and marks the entry ``replayed_at``. Processing is idempotent (unique dedupe key),
so replaying twice never stores a message twice. ``replay_entry`` is shared with the REST API
and the ops dashboard, as is ``requeue_job`` (one job of a failed registry). ``QUEUES`` are all
the queues with failed registries: the channel queues and ``outbound``.
"""
from __future__ import annotations

import argparse
import sys

from redis import Redis
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.logs import configure_logging
from queues.channels import CHANNEL_QUEUES, channel_id, current_envelope
from queues.intake import enqueue_envelopes
from queues.outbound import QUEUE as OUTBOUND_QUEUE
from store.models import QuarantineEntry, utcnow
from queues.runtime import Runtime, runtime

REPLAY_MARK = "replay_of"  # envelope key naming the quarantine entry a replayed job came from
QUEUES = (*CHANNEL_QUEUES, OUTBOUND_QUEUE)  # every queue a worker drains


class NotReplayable(ValueError):
    """The entry has no envelope that a channel queue could process."""


def replay_entry(rt: Runtime, session: Session, entry: QuarantineEntry):
    """Enqueue the entry's stored envelope on its channel queue, mark it; return the RQ job.

    The caller commits ``session``; a Redis outage raises before anything is marked.
    """
    envelope = dict(current_envelope(entry.envelope or {}))  # entries before a rename: its id
    channel = channel_id(envelope.get("channel") or entry.channel)
    if not envelope or channel not in CHANNEL_QUEUES:
        raise NotReplayable(f"entry {entry.id} has no envelope for a known channel queue")
    envelope[REPLAY_MARK] = entry.id
    job = enqueue_envelopes(rt.redis, channel, [envelope])
    entry.replayed_at = utcnow()
    return job


def pending_entry_ids(rt: Runtime, workspace: str | None) -> list[int]:
    query = select(QuarantineEntry.id).where(QuarantineEntry.replayed_at.is_(None))
    if workspace:
        query = query.where(QuarantineEntry.workspace == workspace)
    with rt.read_sessions() as session:
        return list(session.scalars(query.order_by(QuarantineEntry.id)))


def replay_one(rt: Runtime, entry_id: int, workspace: str | None, out) -> bool:
    """Replay one entry in its own transaction; report on ``out``; False when it was not."""
    with rt.sessions.begin() as session:
        entry = session.get(QuarantineEntry, entry_id)
        if entry is None or (workspace and entry.workspace != workspace):
            print(f"entry {entry_id}: not found", file=out)
            return False
        try:
            job = replay_entry(rt, session, entry)
        except NotReplayable as exc:
            print(f"entry {entry_id}: skipped: {exc}", file=out)
            return False
        print(f"entry {entry_id} ({entry.workspace}, {entry.reason}): queued on "
              f"{job.origin} as job {job.id}", file=out)
        return True


def requeue_job(redis: Redis, queue_name: str, job_id: str) -> None:
    """Put one job of ``queue_name``'s failed registry back on its queue; raises
    ``NoSuchJobError`` or ``InvalidJobOperation`` when the registry does not hold it."""
    Queue(queue_name, connection=redis).failed_job_registry.requeue(job_id)


def requeue_failed(redis: Redis, queue_names, out) -> int:
    """Requeue every job of the queues' failed registries; return how many were."""
    done = 0
    for name in queue_names:
        for job_id in Queue(name, connection=redis).failed_job_registry.get_job_ids():
            try:
                requeue_job(redis, name, job_id)
            except (NoSuchJobError, InvalidJobOperation) as exc:
                print(f"{name}: job {job_id} not requeued: {exc}", file=out)
                continue
            print(f"{name}: requeued job {job_id}", file=out)
            done += 1
    return done


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m queues.replay", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quarantine", help="re-enqueue quarantine entries")
    which = q.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, help="this entry (even if replayed before)")
    which.add_argument("--all", action="store_true", help="every entry not replayed yet")
    q.add_argument("--workspace", help="only entries of this workspace")
    f = sub.add_parser("failed", help="requeue jobs from RQ's failed job registries")
    f.add_argument("--queue", choices=QUEUES, help="only this queue (default: all)")
    return p


def main(argv=None, rt: Runtime | None = None, out=sys.stdout) -> int:
    args = parser().parse_args(argv)
    configure_logging("replay")
    rt = rt or runtime()
    if args.command == "failed":
        count = requeue_failed(rt.redis, [args.queue] if args.queue else QUEUES, out)
        print(f"requeued {count} failed job(s)", file=out)
        return 0
    ids = [args.id] if args.id is not None else pending_entry_ids(rt, args.workspace)
    count = sum(replay_one(rt, i, args.workspace, out) for i in ids)
    print(f"replayed {count} of {len(ids)} quarantine entr{'y' if len(ids) == 1 else 'ies'}",
          file=out)
    return 0 if count == len(ids) else 1


if __name__ == "__main__":
    sys.exit(main())
