"""Everything the ops dashboard page shows, gathered for one view.

Queues, workers, failed jobs and the routing waits per hour come from Redis
(``gateway.ops.dashboard_queues``, ``tickets.routing_hours``); quarantine, SLA breaches, IMAP
mailboxes and fairness per hour from the store (``gateway.ops.dashboard_store``). When Redis or
the store is down, its sections stay empty with a note in ``problems`` and the rest still
shows: the dashboard is most needed exactly then.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from gateway.edges.imap import health as imap_health
from gateway.ops import charts, dashboard_queues, dashboard_store
from queues.runtime import Runtime
from tickets import routing_hours
from tickets.routing_metrics import WAIT_BUCKETS_S

log = logging.getLogger(__name__)
HOURS = 24  # hours of routing history charted
MAX_FAIRNESS_CHARTS = 6  # workspaces charted (by slug); the rest are left out


@dataclass
class Dashboard:
    generated_at: datetime
    queues: list = field(default_factory=list)  # dashboard_queues.QueueRow
    failed: list = field(default_factory=list)  # dashboard_queues.FailedJob
    quarantine: list = field(default_factory=list)  # dashboard_store.Reason
    mailboxes: list[dict] = field(default_factory=list)  # imap_health.mailbox_status
    breach_count: int = 0
    breaches: list = field(default_factory=list)  # dashboard_store.Breach
    hours: list[str] = field(default_factory=list)  # "HH:00" UTC, oldest first
    waits: list = field(default_factory=list)  # routing_hours.HourWait per hour
    wait_chart: charts.Chart | None = None
    fairness: dict[str, list] = field(default_factory=dict)  # slug -> index per hour
    fairness_charts: dict[str, charts.Chart] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def collect(rt: Runtime, now: datetime) -> Dashboard:
    board = Dashboard(now)
    board.hours = [(now - timedelta(hours=HOURS - 1 - i)).strftime("%H:00") for i in range(HOURS)]
    try:
        _from_redis(rt, board)
    except RedisError as exc:
        _problem(board, "Redis", exc)
    try:
        _from_store(rt, board)
    except SQLAlchemyError as exc:
        _problem(board, "the store", exc)
    return board


def _problem(board: Dashboard, what: str, exc: Exception) -> None:
    log.warning("ops dashboard: %s unavailable: %s: %s", what, exc.__class__.__name__,
                str(exc)[:200])
    board.problems.append(f"{what} did not answer ({exc.__class__.__name__}); "
                          "the sections it feeds are empty")


def _from_redis(rt: Runtime, board: Dashboard) -> None:
    board.queues = dashboard_queues.queue_rows(rt.redis)
    board.failed = dashboard_queues.failed_jobs(rt.redis)
    board.waits = routing_hours.waits_by_hour(rt.redis, board.generated_at, WAIT_BUCKETS_S,
                                              HOURS)
    board.wait_chart = charts.bar_chart(
        board.hours, [w.mean_s for w in board.waits], markers=[w.p90_s for w in board.waits],
        describe=lambda i: _wait_text(board.hours[i], board.waits[i]))


def _wait_text(hour: str, wait) -> str:
    return (f"{hour}: {wait.count} handed over, mean wait {charts.duration(wait.mean_s)}, "
            f"p90 {charts.duration(wait.p90_s)}")


def _from_store(rt: Runtime, board: Dashboard) -> None:
    with rt.read_sessions() as session:
        board.quarantine = dashboard_store.quarantine_by_reason(session)
        board.breach_count, board.breaches = dashboard_store.open_breaches(session)
        policies = {w.slug: w.routing.make_policy() for w in rt.config.workspaces}
        fairness = routing_hours.fairness_by_hour(session, policies, board.generated_at, HOURS)
    board.fairness = dict(sorted(fairness.items())[:MAX_FAIRNESS_CHARTS])
    board.fairness_charts = {slug: charts.line_chart(board.hours, [values])
                             for slug, values in board.fairness.items()}
    board.mailboxes = imap_health.mailbox_status(rt.read_sessions, rt.config, board.generated_at)
