"""First-response and resolution times as Prometheus histograms, counted as they happen.

``tickets.sla_clock`` calls :func:`responded` when it stamps a ticket's first agent reply
(``first_response_at``: replies only, never a note or an automatic message) and
:func:`resolved` when an active ticket becomes resolved or closed. Each adds one observation,
seconds of wall-clock time since the ticket's creation, to the shared metrics hash
(``queues.metrics``) labelled by channel and workspace, and only once the transaction that made
the change commits (``metrics.add_on_commit``): a rolled-back reply is not counted. A ticket
reopened and resolved again counts one more resolution, so the histogram counts resolutions,
not tickets; a merged ticket's survivor keeps its own first response.

``ServiceTimeCollector`` exposes ``ticketgate_first_response_seconds`` and
``ticketgate_resolution_seconds`` on ``/metrics``: reading them costs one Redis read per scrape,
whatever the number of tickets.
"""
from __future__ import annotations

from datetime import datetime

from prometheus_client.core import HistogramMetricFamily
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import object_session

from queues import metrics
from routing.calendar import as_utc
from store.models import FINISHED, Workspace

PREFIX = "ticketgate_"  # as gateway.ops.health
RESOLVED = ("resolved", "closed")  # spam and deleted tickets were not resolved
# Seconds: 1 min .. 1 week (first response), 15 min .. 30 days (resolution).
FIRST_RESPONSE_BUCKETS_S = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0,
                            86400.0, 172800.0, 604800.0)
RESOLUTION_BUCKETS_S = (900.0, 3600.0, 14400.0, 28800.0, 86400.0, 172800.0, 259200.0,
                        604800.0, 1209600.0, 2592000.0)
HISTOGRAMS = {  # name in the metrics hash -> (buckets, help)
    "first_response": (FIRST_RESPONSE_BUCKETS_S,
                       "Seconds from a ticket's creation to its first agent reply"),
    "resolution": (RESOLUTION_BUCKETS_S,
                   "Seconds from a ticket's creation to its resolution (each time it is "
                   "resolved or closed from an active status)"),
}


def responded(ticket, now: datetime) -> None:
    """The ticket's first agent reply was stored at ``now``."""
    _observe_on_commit(ticket, "first_response", now)


def resolved(ticket, old: str, new: str, now: datetime) -> None:
    """The ticket's status changed from ``old`` to ``new`` at ``now``."""
    if old not in FINISHED and new in RESOLVED:
        _observe_on_commit(ticket, "resolution", now)


def _observe_on_commit(ticket, name: str, now: datetime) -> None:
    session = object_session(ticket)
    if session is None or ticket.created_at is None:
        return  # a ticket outside any transaction: nothing will be committed
    workspace = session.get(Workspace, ticket.workspace_id)
    label = f"{ticket.channel}|{workspace.slug if workspace else '?'}"
    seconds = max(0.0, (as_utc(now) - as_utc(ticket.created_at)).total_seconds())
    fields: dict[str, int] = {}
    sums: dict[str, float] = {}
    metrics.observe(fields, sums, name, label, seconds, HISTOGRAMS[name][0])
    metrics.add_on_commit(session, fields, sums)


class ServiceTimeCollector:
    """The two histograms, per channel and workspace, from the metrics hash."""

    def __init__(self, redis: Redis):
        self.redis = redis

    def collect(self):
        try:
            values = metrics.read_all(self.redis)
        except RedisError:
            return  # gateway.ops.health reports ticketgate_redis_up 0
        for name, (buckets, doc) in HISTOGRAMS.items():
            yield histogram(values, name, buckets, doc)


def histogram(values: dict[str, float], name: str, buckets, doc: str) -> HistogramMetricFamily:
    family = HistogramMetricFamily(f"{PREFIX}{name}_seconds", doc,
                                   labels=["channel", "workspace"])
    for label in labels_of(values, name):
        counts = [(str(b), values.get(f"{name}_bucket|{label}|{b}", 0.0)) for b in buckets]
        counts.append(("+Inf", values.get(f"{name}_count|{label}", 0.0)))
        family.add_metric(label.split("|"), counts, values.get(f"{name}_sum|{label}", 0.0))
    return family


def labels_of(values: dict[str, float], name: str) -> list[str]:
    """The ``channel|workspace`` labels observed for histogram ``name``."""
    prefix = f"{name}_count|"
    return sorted(key[len(prefix):] for key in values
                  if key.startswith(prefix) and key.count("|") == 2)
