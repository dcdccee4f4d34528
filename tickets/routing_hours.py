"""Routing per hour, for the ops dashboard's charts: queue waits and fairness.

Waits: ``count_decisions`` (``tickets.routing_metrics``) also adds each ticket's queue wait,
when it is handed to an agent, to a histogram of the UTC hour of the decision: one Redis hash
per hour (``HOUR_KEY`` + hours since the epoch) that expires after ``KEEP_S``, so reading a
day costs 24 small reads. ``waits_by_hour`` turns them into count, mean and p90 per hour (the
p90 is the upper bound of its histogram bucket).

Fairness: ``fairness_by_hour`` computes, per workspace and hour, Jain's index of the
assignments started (and accepted) in that hour per unit of each agent's total weighted
capacity, over the agents online now, as ``ticketgate_routing_fairness`` does for its rolling
windows (``tickets.routing_metrics``); None where fewer than two agents qualify or nothing
started.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.fairness import jain
from routing.model import Policy
from store.models import Agent, Assignment, Workspace
from tickets.route_store import seconds, total_units

HOUR_KEY = "ticketgate:routing_wait_hour:"  # + hours since the epoch (UTC)
KEEP_S = 3 * 86400  # an hour's wait histogram lives this long after its last write
HOUR_S = 3600
MAX_ASSIGNMENTS = 100_000  # assignment rows read for a day's fairness


def hour_of(at: float) -> int | None:
    return int(at // HOUR_S) if isinstance(at, (int, float)) and math.isfinite(at) else None


def wait_increments(waits: list[tuple[float, float]], buckets) -> list:
    """``metrics.add_to_hashes`` increments for (decision time, seconds waited) pairs."""
    hours: dict[int, tuple[dict, dict]] = {}
    for at, waited in waits:
        hour = hour_of(at)
        if hour is None or hour <= 0:
            continue
        fields, sums = hours.setdefault(hour, ({}, {}))
        for bound in [b for b in buckets if waited <= b] + ["+Inf"]:
            fields[f"bucket|{bound}"] = fields.get(f"bucket|{bound}", 0) + 1
        fields["count"] = fields.get("count", 0) + 1
        sums["sum"] = sums.get("sum", 0.0) + waited
    return [(f"{HOUR_KEY}{hour}", fields, sums, KEEP_S) for hour, (fields, sums) in hours.items()]


@dataclass(frozen=True)
class HourWait:
    hour: datetime  # start of the UTC hour
    count: int
    mean_s: float | None
    p90_s: float | None  # upper bound of the bucket holding the 90th percentile (inf: beyond)


def waits_by_hour(redis: Redis, now: datetime, buckets, hours: int = 24) -> list[HourWait]:
    """The last ``hours`` UTC hours, oldest first, the current one last."""
    last = hour_of(now.timestamp())
    numbers = list(range(last - hours + 1, last + 1))
    pipe = redis.pipeline(transaction=False)
    for number in numbers:
        pipe.hgetall(f"{HOUR_KEY}{number}")
    out = []
    for number, raw in zip(numbers, pipe.execute()):
        values = {k.decode(): float(v) for k, v in raw.items()}
        count = int(values.get("count", 0))
        out.append(HourWait(datetime.fromtimestamp(number * HOUR_S, timezone.utc), count,
                            values.get("sum", 0.0) / count if count else None,
                            _quantile_bound(values, buckets, count, 0.9)))
    return out


def _quantile_bound(values: dict, buckets, count: int, q: float) -> float | None:
    if not count:
        return None
    return next((b for b in buckets if values.get(f"bucket|{b}", 0) >= q * count), math.inf)


def fairness_by_hour(session: Session, policies: dict[str, Policy], now: datetime,
                     hours: int = 24) -> dict[str, list[float | None]]:
    """slug -> Jain's index per hour (oldest first, the current hour last)."""
    agents = session.execute(
        select(Agent.id, Workspace.slug, Agent.capacity, Agent.total)
        .join(Workspace, Workspace.id == Agent.workspace_id).where(Agent.status == "online"))
    units = {a.id: (a.slug, total_units(a, policies.get(a.slug) or Policy())) for a in agents}
    units = {agent_id: value for agent_id, value in units.items() if value[1] > 0}
    first = (hour_of(now.timestamp()) - hours + 1) * HOUR_S
    started = session.execute(
        select(Assignment.agent_id, Assignment.started_at)
        .where(Assignment.agent_id.in_(list(units)), Assignment.accepted_at.is_not(None),
               Assignment.started_at >= datetime.fromtimestamp(first, timezone.utc))
        .limit(MAX_ASSIGNMENTS))
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for agent_id, at in started:
        index = int((seconds(at) - first) // HOUR_S)
        if 0 <= index < hours:
            counts[(agent_id, index)] += 1
    return {slug: [_index(units, counts, slug, i) for i in range(hours)]
            for slug in sorted({slug for slug, _ in units.values()})}


def _index(units: dict, counts: dict, slug: str, hour: int) -> float | None:
    shares = [counts.get((agent_id, hour), 0) / total
              for agent_id, (agent_slug, total) in units.items() if agent_slug == slug]
    return jain(shares) if len(shares) >= 2 else None
