"""Health, readiness and Prometheus metrics of the web process (no API key needed).

``/healthz`` says the process answers; ``/readyz`` that Redis and the store answer too (a load
balancer sends traffic only then), and shows each IMAP mailbox's last successful fetch and
backlog; ``/metrics`` turns the counters and histograms every process keeps in Redis
(``queues.metrics``, ``tickets.service_times``) and the live depth, failed jobs and workers of
every RQ queue (the channel queues and ``outbound``) into Prometheus text. When Redis is down,
``/metrics`` still answers, with ``ticketgate_redis_up 0`` and nothing it cannot read.

``/readyz`` and ``/metrics`` name workspaces, agents and mailboxes: with ``METRICS_TOKEN`` set
they answer 401 unless the request sends ``Authorization: Bearer <METRICS_TOKEN>`` (compared
in constant time). ``/healthz`` tells nothing and stays public for liveness probes.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from sqlalchemy.exc import SQLAlchemyError

from queues import metrics
from tickets import routing_metrics, service_times
from gateway.errors import RETRY_AFTER_S, ApiError
from gateway.edges.imap import health as imap_health
from queues.channels import CHANNEL_QUEUES
from gateway.app_runtime import runtime
from queues.replay import QUEUES
from store.db import ping

bp = Blueprint("health", __name__)
PREFIX = "ticketgate_"
LATENCY = "latency"  # prefix of the histogram fields in the metrics hash
PROTECTED = {"health.readyz", "health.prometheus_metrics"}  # endpoints behind METRICS_TOKEN


@bp.before_request
def require_metrics_token():
    token = runtime().settings.metrics_token
    if not token or request.endpoint not in PROTECTED:
        return
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if not (scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), token.encode())):
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <METRICS_TOKEN>'")


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    rt = runtime()
    checks = {"redis": _check(rt.redis.ping, RedisError),
              "store": _check(lambda: ping(rt.read_sessions.kw["bind"]), SQLAlchemyError)}
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    if ready and _has_mailboxes(rt.config):  # informational: a stale mailbox is not "unready"
        body["imap"] = imap_health.mailbox_status(rt.read_sessions, rt.config)
    headers = {} if ready else {"Retry-After": str(RETRY_AFTER_S)}
    return jsonify(body), 200 if ready else 503, headers


def _check(probe, errors) -> str:
    try:
        probe()
    except errors as exc:
        return f"error: {exc.__class__.__name__}: {str(exc)[:200]}"
    return "ok"


@bp.get("/metrics")
def prometheus_metrics():
    registry = CollectorRegistry(auto_describe=False)
    rt = runtime()
    registry.register(RedisCollector(rt.redis))
    if _has_mailboxes(rt.config):
        registry.register(ImapCollector(rt))
    registry.register(routing_metrics.RoutingCollector(rt))
    registry.register(service_times.ServiceTimeCollector(rt.redis))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class RedisCollector:
    """A Prometheus collector reading one consistent snapshot of Redis per scrape."""

    def __init__(self, redis: Redis):
        self.redis = redis

    def collect(self):
        try:
            values, queues = metrics.read_all(self.redis), queue_counts(self.redis)
            workers = worker_counts(self.redis)
        except RedisError:
            yield gauge("redis_up", "Whether Redis answered this scrape", None, {(): 0})
            return
        yield from counters(values)
        yield latency_histogram(values)
        yield gauge("queue_depth", "Jobs waiting on an RQ queue", "queue",
                    {(q,): n for q, (n, _) in queues.items()})
        yield gauge("failed_jobs", "Jobs in an RQ queue's failed registry (replayable)",
                    "queue", {(q,): f for q, (_, f) in queues.items()})
        yield gauge("workers", "RQ workers alive on a queue (sending heartbeats)", "queue",
                    workers)
        yield gauge("redis_up", "Whether Redis answered this scrape", None, {(): 1})


def _has_mailboxes(config) -> bool:
    return any(w.channels.mailboxes for w in config.workspaces)


class ImapCollector:
    """Per mailbox: the last successful fetch and the backlog, from the store."""

    def __init__(self, rt):
        self.rt = rt

    def collect(self):
        try:
            statuses = imap_health.mailbox_status(self.rt.read_sessions, self.rt.config)
        except SQLAlchemyError:
            return
        families = {}
        for name, doc, labels, value in imap_health.prometheus_samples(statuses):
            family = families.setdefault(name, GaugeMetricFamily(PREFIX + name, doc,
                                                                 labels=list(labels)))
            family.add_metric(list(labels.values()), value)
        yield from families.values()


def queue_counts(redis: Redis) -> dict[str, tuple[int, int]]:
    """queue name -> (jobs waiting, jobs in the failed registry), for every queue."""
    queues = {name: Queue(name, connection=redis) for name in QUEUES}
    return {name: (q.count, q.failed_job_registry.get_job_count(cleanup=False))
            for name, q in queues.items()}


def worker_counts(redis: Redis) -> dict[tuple[str], int]:
    """(queue name,) -> workers alive on it, for every queue (``Worker.all`` drops the workers
    whose key expired: killed ones stay in RQ's registry sets until a maintenance pass)."""
    return {(name,): len(Worker.all(queue=Queue(name, connection=redis))) for name in QUEUES}


def gauge(name: str, doc: str, label: str | None, samples: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(PREFIX + name, doc, labels=[label] if label else [])
    for labels, value in samples.items():
        family.add_metric(list(labels), value)
    return family


def channels_of(values: dict[str, float], name: str) -> list[str]:
    """Every channel queue plus any other channel that has a ``name|channel...`` field."""
    seen = {key.split("|")[1] for key in values if key.startswith(name + "|")}
    return sorted(set(CHANNEL_QUEUES) | seen)


def counters(values: dict[str, float]):
    for name, doc in metrics.COUNTERS.items():
        family = CounterMetricFamily(f"{PREFIX}{name}", doc, labels=["channel"])
        for channel in channels_of(values, name):
            family.add_metric([channel], values.get(f"{name}|{channel}", 0.0))
        yield family


def latency_histogram(values: dict[str, float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(f"{PREFIX}processing_latency_seconds",
                                   "Seconds from receipt at an edge to stored in a ticket",
                                   labels=["channel"])
    for channel in channels_of(values, f"{LATENCY}_count"):
        buckets = [(str(b), values.get(f"{LATENCY}_bucket|{channel}|{b}", 0.0))
                   for b in metrics.LATENCY_BUCKETS_S]
        buckets.append(("+Inf", values.get(f"{LATENCY}_count|{channel}", 0.0)))
        family.add_metric([channel], buckets, values.get(f"{LATENCY}_sum|{channel}", 0.0))
    return family
