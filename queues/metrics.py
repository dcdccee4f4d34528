"""Metrics shared by every process, kept in Redis so /metrics sees all edges and workers.

Edges and workers bump counters and histogram buckets in one Redis hash; the web process exposes
them (plus live queue depths) in Prometheus format through a custom collector. Counting never
breaks the work it counts: a Redis error while counting is ignored.

What happens inside a database transaction is counted when, and only if, it commits:
``add_on_commit(session, fields, sums)`` keeps the increments on the session and
``count_on_commit(sessions, redis)`` (done for every ``Runtime``'s session factory) adds them to
Redis right after the commit; a rollback drops them.
"""
from __future__ import annotations

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from queues.channels import FORMER_NAMES, channel_id

METRICS_KEY = "ticketgate:metrics"
PENDING = "ticketgate.metrics"  # Session.info key: (fields, sums) waiting for the commit
LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

COUNTERS = {
    "received": "Inbound messages accepted at an edge",
    "enqueue_failures": "Inbound messages refused because the queue was unavailable",
    "tickets_created": "Tickets created by inbound messages",
    "tickets_threaded": "Inbound messages threaded into an existing ticket",
    "messages_edited": "Inbound edits that replaced a stored message's text",
    "duplicates": "Inbound messages dropped as duplicates of a stored one",
    "ignored": "Inbound inputs with nothing to store (bot commands, ignorable updates)",
    "rejected": "Inbound requests refused at an edge (bad signature, invalid input, rate limit)",
    "quarantined": "Inbound messages put in quarantine",
    "imap_fetch_errors": "IMAP FETCH refused by the server for a message",
    "imap_reconnects": "IMAP connections lost or refused",
}
# Routing counters (tickets.routing_metrics): name -> (label, help); fields "name|<label value>".
ROUTING_COUNTERS = {
    "routing_decisions": ("kind", "Routing decisions by kind (assign, offer, wait, park, ...)"),
    "routing_triggers": ("trigger", "Routing decisions by cause (arrival, capacity, ladder, ...)"),
}


def incr(redis: Redis, name: str, channel: str, amount: int = 1) -> None:
    try:
        redis.hincrby(METRICS_KEY, f"{name}|{channel}", amount)
    except RedisError:
        pass


def record(redis: Redis, counts: dict[tuple[str, str], int],
           latencies: list[tuple[str, float]]) -> None:
    """Add ``counts`` ((name, channel) -> n) and receive-to-stored latencies in one round trip."""
    fields: dict[str, int] = {f"{name}|{channel}": n for (name, channel), n in counts.items()}
    sums: dict[str, float] = {}
    for channel, seconds in latencies:
        observe(fields, sums, "latency", channel, seconds, LATENCY_BUCKETS_S)
    add(redis, fields, sums)


def observe(fields: dict[str, int], sums: dict[str, float], name: str, label: str,
            seconds: float, buckets) -> None:
    """Add one observation of histogram ``name`` to the increments ``fields`` and ``sums``."""
    for bucket in [b for b in buckets if seconds <= b] + ["+Inf"]:
        key = f"{name}_bucket|{label}|{bucket}"
        fields[key] = fields.get(key, 0) + 1
    fields[f"{name}_count|{label}"] = fields.get(f"{name}_count|{label}", 0) + 1
    sums[f"{name}_sum|{label}"] = sums.get(f"{name}_sum|{label}", 0.0) + seconds


def add(redis: Redis, fields: dict[str, int], sums: dict[str, float]) -> None:
    """Add integer ``fields`` and float ``sums`` to the metrics hash in one round trip."""
    add_to_hashes(redis, [(METRICS_KEY, fields, sums, None)])


def add_to_hashes(redis: Redis, increments) -> None:
    """Add (hash key, integer fields, float sums, seconds to live or None) increments to their
    hashes in one round trip; a hash with a time to live expires that long after the write."""
    try:
        pipe = redis.pipeline(transaction=False)
        for key, fields, sums, ttl_s in increments:
            for field, amount in fields.items():
                pipe.hincrby(key, field, amount)
            for field, amount in sums.items():
                pipe.hincrbyfloat(key, field, amount)
            if ttl_s:
                pipe.expire(key, ttl_s)
        pipe.execute()
    except RedisError:
        pass


def add_on_commit(session: Session, fields: dict[str, int], sums: dict[str, float]) -> None:
    """Add these increments to the metrics hash once ``session``'s transaction commits."""
    pending_fields, pending_sums = session.info.setdefault(PENDING, ({}, {}))
    for field, amount in fields.items():
        pending_fields[field] = pending_fields.get(field, 0) + amount
    for field, amount in sums.items():
        pending_sums[field] = pending_sums.get(field, 0.0) + amount


def count_on_commit(sessions: sessionmaker, redis: Redis) -> None:
    """Make the ``add_on_commit`` increments of ``sessions``' sessions reach ``redis`` after
    each commit; a rollback drops them (nothing that was undone is counted)."""
    @event.listens_for(sessions, "after_commit")
    def _committed(session: Session) -> None:
        fields, sums = session.info.pop(PENDING, ({}, {}))
        if fields or sums:
            add(redis, fields, sums)

    @event.listens_for(sessions, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(PENDING, None)


def read_all(redis: Redis) -> dict[str, float]:
    """Every field of the hash; what was counted under a channel's former name (``messenger``)
    is added to the channel's id, so the channel keeps one series with its whole history."""
    values: dict[str, float] = {}
    for key, value in redis.hgetall(METRICS_KEY).items():
        field = current_field(key.decode())
        values[field] = values.get(field, 0.0) + float(value)
    return values


def current_field(field: str) -> str:
    """``name|<former channel name>|...`` with the channel's id; any other field as given."""
    name, sep, rest = field.partition("|")
    label, sep_rest, tail = rest.partition("|")
    if label not in FORMER_NAMES:
        return field
    return f"{name}{sep}{channel_id(label)}{sep_rest}{tail}"
