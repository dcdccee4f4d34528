"""What ``bench.multihost`` asks the store: a fresh schema per round, how many messages are
stored (and when), and whether every generated message was stored exactly once with each
reply on its parent's ticket."""
from __future__ import annotations

import time
from email.parser import BytesHeaderParser

import redis
from rq import Queue
from sqlalchemy import func, select, text

from store.db import make_engine
from store.migrate import upgrade
from store.models import Message, QuarantineEntry

SETTLE_POLL_S = 0.2           # how often the store is asked how many messages it has
DRAIN_TIMEOUT_S = 900         # longest a backlog may take to be stored


def expected_threads(raws: list[bytes]) -> dict[str, str]:
    """Message-ID -> the Message-ID it answers ('' for a new conversation)."""
    parser = BytesHeaderParser()
    heads = [parser.parsebytes(raw) for raw in raws]
    return {bare(h["Message-ID"]): bare(h["In-Reply-To"] or "") for h in heads}


def bare(message_id: str) -> str:
    return message_id.strip().strip("<>")


def fresh_store(url: str) -> None:
    with make_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)


def inbound_stored(engine) -> int:
    with engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Message)
                            .where(Message.direction == "in"))
                + conn.scalar(select(func.count()).select_from(QuarantineEntry)))


def wait_stored(engine, expected: int) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while inbound_stored(engine) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {inbound_stored(engine)} of {expected} stored")
        time.sleep(SETTLE_POLL_S)


def middle_rate(engine) -> float:
    """Messages/s between the 10th and the 90th percentile of stored times: the steady rate,
    without the workers' start (they look at the suspension once a second) or the tail."""
    with engine.connect() as conn:
        times = list(conn.scalars(select(Message.created_at).where(Message.direction == "in")
                                  .order_by(Message.created_at)))
    low, high = len(times) // 10, len(times) * 9 // 10
    return (high - low) / max(1e-6, (times[high - 1] - times[low]).total_seconds())


def check_exactly_once(engine, conn: redis.Redis, threads: dict[str, str]) -> dict[str, int]:
    with engine.connect() as db:
        rows = db.execute(select(Message.native_id, Message.ticket_id)
                          .where(Message.direction == "in")).all()
        quarantined = db.scalar(select(func.count()).select_from(QuarantineEntry))
    ticket = {bare(native): ticket_id for native, ticket_id in rows}
    replies = [(mid, parent) for mid, parent in threads.items() if parent]
    return {"stored": len(rows), "distinct": len(ticket),
            "missing": len(set(threads) - set(ticket)),
            "unexpected": len(set(ticket) - set(threads)),
            "quarantined": quarantined,
            "failed_jobs": Queue("email", connection=conn).failed_job_registry.count,
            "replies": len(replies),
            "replies_threaded": sum(ticket.get(m) == ticket.get(p) for m, p in replies)}
