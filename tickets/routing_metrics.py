"""Routing metrics (issue 4): decisions, queue waits, breaches, per-agent load and fairness.

Workers call ``count_decisions(redis, decisions)`` after their transaction commits: it bumps
``routing_decisions|<kind>`` and ``routing_triggers|<trigger>`` and, for a ticket handed to an
agent after waiting in the queue (``waited_s`` in the explanation), the queue-wait histogram,
in the shared metrics hash (``queues.metrics``), and the wait histogram of the decision's hour
(``tickets.routing_hours``, for the ops dashboard), in one round trip; a Redis error is ignored.

``RoutingCollector`` exposes those on ``/metrics`` plus what it reads from the store at scrape
time in one read session: per-agent load and capacity (at most ``MAX_AGENTS`` agents), waiting,
parked and offered tickets, open tickets with a breached SLA target, and fairness per rolling
window:
Jain's index ``(sum x)^2 / (n sum x^2)`` of x = assignments started in the window / the agent's
total weighted capacity, over the agents online *now* (an approximation of "online during the
window": presence history is not stored), as in the simulator's report (``routing.fairness``). A
database error skips the store families (logged); a Redis error skips the counters;
``/metrics`` still answers.
"""
from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import get_args

from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from queues import metrics
from routing.fairness import jain
from routing.model import PRIORITIES, DecisionKind, Policy
from store.models import STATUSES, Agent, Assignment, Ticket, Workspace, utcnow
from tickets.route_store import total_units
from tickets.routing_hours import wait_increments
from tickets.sla_clock import FINISHED

log = logging.getLogger(__name__)
PREFIX = "ticketgate_"  # as gateway.ops.health (which imports this module, so it is not imported)
WAIT = "routing_wait"  # prefix of the wait histogram's fields in the metrics hash
# Queue waits in seconds, 1 s .. 4 h.
WAIT_BUCKETS_S = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
                  14400.0)
HANDED = ("assign", "offer")  # decisions that hand the ticket to an agent: the wait ends
MAX_AGENTS = 1000  # agents read per scrape (load, capacity, fairness), by workspace and key
WINDOWS = {"1h": 3600, "24h": 86400}  # fairness windows, seconds back from the scrape
QUEUED = ("waiting", "parked", "offered")  # routing states counted per workspace
OPEN = tuple(s for s in STATUSES if s not in FINISHED)


def count_decisions(redis: Redis, decisions) -> None:
    """Count ``routing.model.Decision`` objects and their queue waits (never raises)."""
    fields: dict[str, int] = {}
    sums: dict[str, float] = {}
    waits: list[tuple[float, float]] = []  # (decision time, seconds waited)
    for decision in decisions:
        names = [f"routing_decisions|{decision.kind}"]
        trigger = decision.explanation.get("trigger")
        if trigger:
            names.append(f"routing_triggers|{trigger}")
        for name in names:
            fields[name] = fields.get(name, 0) + 1
        waited = decision.explanation.get("waited_s")
        if decision.kind in HANDED and _is_seconds(waited):
            metrics.observe(fields, sums, WAIT, decision.kind, max(0.0, waited), WAIT_BUCKETS_S)
            waits.append((decision.at, max(0.0, waited)))
    if fields:
        metrics.add_to_hashes(redis, [(metrics.METRICS_KEY, fields, sums, None),
                                      *wait_increments(waits, WAIT_BUCKETS_S)])


def _is_seconds(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class RoutingCollector:
    """A Prometheus collector of the routing counters (Redis) and routing state (the store)."""

    def __init__(self, rt):
        self.rt = rt

    def collect(self):
        yield from redis_families(self.rt.redis)
        try:
            with self.rt.read_sessions() as session:
                snapshot = read_snapshot(session, utcnow())
        except SQLAlchemyError as exc:
            log.warning("routing metrics skipped: store error %s: %s",
                        exc.__class__.__name__, str(exc)[:200])
            return
        slugs = [w.slug for w in self.rt.config.workspaces]
        policies = {w.slug: w.routing.make_policy() for w in self.rt.config.workspaces}
        yield from store_families(snapshot, slugs, policies)


# --- counters and the wait histogram, from Redis ------------------------------------------------

def redis_families(redis: Redis):
    try:
        values = metrics.read_all(redis)
    except RedisError:
        return  # gateway.ops.health reports ticketgate_redis_up 0
    for name, (label, doc) in metrics.ROUTING_COUNTERS.items():
        family = CounterMetricFamily(PREFIX + name, doc, labels=[label])
        known = get_args(DecisionKind) if name == "routing_decisions" else ()
        for value in _labels_of(values, name, known):
            family.add_metric([value], values.get(f"{name}|{value}", 0.0))
        yield family
    yield wait_histogram(values)


def _labels_of(values: dict[str, float], name: str, known=()) -> list[str]:
    seen = {key.split("|")[1] for key in values if key.startswith(name + "|")}
    return sorted(set(known) | seen)


def wait_histogram(values: dict[str, float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        f"{PREFIX}routing_wait_seconds",
        "Seconds a ticket waited in the routing queue before it was assigned or offered",
        labels=["kind"])
    for kind in _labels_of(values, f"{WAIT}_count", HANDED):
        buckets = [(str(b), values.get(f"{WAIT}_bucket|{kind}|{b}", 0.0)) for b in WAIT_BUCKETS_S]
        buckets.append(("+Inf", values.get(f"{WAIT}_count|{kind}", 0.0)))
        family.add_metric([kind], buckets, values.get(f"{WAIT}_sum|{kind}", 0.0))
    return family


# --- routing state, from the store ----------------------------------------------------------

@dataclass
class Snapshot:
    """What one scrape read from the store."""

    agents: list = field(default_factory=list)  # rows: id, slug, key, status, capacity, total
    load: dict = field(default_factory=dict)  # (agent id, channel) -> open assignments
    started: dict = field(default_factory=dict)  # (agent id, window) -> assignments started
    queued: dict = field(default_factory=dict)  # (slug, routing state, priority) -> tickets
    breached: dict = field(default_factory=dict)  # slug -> open tickets with an SLA breach


def read_snapshot(session: Session, now: datetime) -> Snapshot:
    agents = list(session.execute(
        select(Agent.id, Workspace.slug, Agent.key, Agent.status, Agent.capacity, Agent.total)
        .select_from(Agent).join(Workspace, Workspace.id == Agent.workspace_id)
        .order_by(Workspace.slug, Agent.key).limit(MAX_AGENTS)))
    online = [a.id for a in agents if a.status == "online"]
    return Snapshot(agents, _open_load(session, [a.id for a in agents]),
                    _started(session, online, now), _queued(session), _breached(session))


def _open_load(session: Session, agent_ids: list[int]) -> dict:
    rows = session.execute(
        select(Assignment.agent_id, Assignment.channel, func.count())
        .where(Assignment.ended_at.is_(None), Assignment.agent_id.in_(agent_ids))
        .group_by(Assignment.agent_id, Assignment.channel))
    return {(agent_id, channel): n for agent_id, channel, n in rows}


def _started(session: Session, agent_ids: list[int], now: datetime) -> dict:
    since = {name: now - timedelta(seconds=s) for name, s in WINDOWS.items()}
    columns = [func.sum(case((Assignment.started_at >= at, 1), else_=0)) for at in since.values()]
    rows = session.execute(
        select(Assignment.agent_id, *columns)
        .where(Assignment.agent_id.in_(agent_ids), Assignment.started_at >= min(since.values()),
               Assignment.accepted_at.is_not(None))  # a lapsed offer was no work done
        .group_by(Assignment.agent_id))
    return {(agent_id, name): int(n or 0)
            for agent_id, *counts in rows for name, n in zip(since, counts)}


def _queued(session: Session) -> dict:
    rows = session.execute(
        select(Workspace.slug, Ticket.routing_state, Ticket.priority, func.count())
        .select_from(Ticket).join(Workspace, Workspace.id == Ticket.workspace_id)
        .where(Ticket.routing_state.in_(QUEUED))
        .group_by(Workspace.slug, Ticket.routing_state, Ticket.priority))
    return {(slug, state, priority): n for slug, state, priority, n in rows}


def _breached(session: Session) -> dict:
    rows = session.execute(
        select(Workspace.slug, func.count())
        .select_from(Ticket).join(Workspace, Workspace.id == Ticket.workspace_id)
        .where(Ticket.status.in_(OPEN), Ticket.sla["breached"].as_boolean())
        .group_by(Workspace.slug))
    return dict(rows.all())


def store_families(snapshot: Snapshot, slugs: list[str], policies: dict[str, Policy]):
    yield from agent_families(snapshot)
    slugs = sorted(set(slugs) | {key[0] for key in snapshot.queued} | set(snapshot.breached))
    waiting = gauge("routing_waiting", "Tickets waiting in the routing queue",
                    ["workspace", "priority"])
    parked = gauge("routing_parked", "Tickets parked out of the automatic routing queue",
                   ["workspace"])
    offered = gauge("routing_offered", "Tickets offered to an agent, not yet accepted",
                    ["workspace"])
    breached = gauge("sla_breached_open", "Open tickets with a breached SLA target",
                     ["workspace"])
    for slug in slugs:
        for priority in PRIORITIES:
            waiting.add_metric([slug, priority],
                               snapshot.queued.get((slug, "waiting", priority), 0))
        for family, state in ((parked, "parked"), (offered, "offered")):
            family.add_metric([slug], sum(n for (s, kind, _), n in snapshot.queued.items()
                                          if s == slug and kind == state))
        breached.add_metric([slug], snapshot.breached.get(slug, 0))
    yield from (waiting, parked, offered, breached)
    yield fairness_family(fairness(snapshot, policies))


def agent_families(snapshot: Snapshot):
    labels = ["workspace", "agent", "channel"]
    load = gauge("routing_agent_load", "Open assignments of an agent on a channel", labels)
    capacity = gauge("routing_agent_capacity",
                     "Tickets an agent may hold at once on a channel", labels)
    for agent in snapshot.agents:
        channels = set(agent.capacity or {}) | {c for (i, c) in snapshot.load if i == agent.id}
        for channel in sorted(channels):
            names = [agent.slug, agent.key, channel]
            load.add_metric(names, snapshot.load.get((agent.id, channel), 0))
            capacity.add_metric(names, (agent.capacity or {}).get(channel, 0))
    yield from (load, capacity)


def fairness(snapshot: Snapshot, policies: dict[str, Policy]) -> dict[tuple[str, str], float]:
    """(slug, window) -> Jain's index over the online agents with capacity; none when fewer than
    two such agents or no assignment started in the window."""
    shares: dict[tuple[str, str], list[float]] = defaultdict(list)
    for agent in snapshot.agents:
        units = total_units(agent, policies.get(agent.slug) or Policy())
        if agent.status != "online" or units <= 0:
            continue
        for window in WINDOWS:
            shares[(agent.slug, window)].append(snapshot.started.get((agent.id, window), 0)
                                                / units)
    indexes = {key: jain(values) for key, values in shares.items() if len(values) >= 2}
    return {key: index for key, index in indexes.items() if index is not None}


def fairness_family(indexes: dict[tuple[str, str], float]) -> GaugeMetricFamily:
    family = gauge("routing_fairness",
                   "Jain's index of assignments started in the window per unit of total "
                   "capacity, over agents online now (1 = perfectly fair)",
                   ["workspace", "window"])
    for (slug, window), index in sorted(indexes.items()):
        family.add_metric([slug, window], index)
    return family


def gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, doc, labels=labels)
