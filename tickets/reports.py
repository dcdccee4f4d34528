"""The summary report (docs/api.md, ``GET /api/v1/reports/summary``).

A report reads only the ticket rows: everything it counts is kept on them as it happens
(``tickets.sla_clock`` stamps the seconds to the first agent reply and to the last resolution,
wall-clock and business, and the breach flag; ``store.repo.set_status`` counts reopens). The
tickets of a report are those of the workspace created in ``[start, end)``: a cohort, each
ticket counted once in the row of its group, with what became of it since:

- ``created``: the tickets; ``resolved``: those resolved or closed now; ``reopened``: those
  reopened at least once (finished, then active again); ``backlog``: those still active now.
- ``first_response``: seconds from creation to the first agent reply (never a note nor an
  automatic message); ``resolution``: seconds from creation to the last resolution, over the
  tickets resolved or closed now. ``hours=business`` counts the seconds on the business
  calendar of the ticket's SLA policy (the SLA clock's; always open without one).
- ``sla``: ``breached``, the tickets under an SLA policy that breached any target; ``met``,
  those under one resolved or closed without a breach.

A ticket merged into another is left out (its survivor is the ticket), as are spam and
deleted ones; a follow-up ticket is a ticket of its own, measured from its own creation.

A range holding at most ``EXACT_MAX`` tickets is read from the ticket rows, every figure
exact: on PostgreSQL one aggregate query over the ``(workspace_id, created_at)`` index,
percentiles included (``percentile_cont``); SQLite has neither percentiles nor time zones, so
there the rows are read and aggregated here, with the same definitions (``percentile`` is
``percentile_cont``'s linear interpolation). A larger range is read from the rollup kept as
tickets change (``tickets.report_rollup``): counts, sums and means still exact, percentiles
estimated from 2 % wide buckets, within 2 % of the exact figure (or 1 s below one second).
"""
from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import Float, and_, case, cast, func, literal, select, true
from sqlalchemy.orm import Session

from store.models import Ticket
from tickets import report_rollup
from tickets.report_tally import ACTIVE_NOT, LEFT_OUT, RESOLVED, group_keys
from tickets.report_tally import stats as time_stats

EXACT_MAX = 5_000  # tickets: a range with more is read from the rollup (percentiles within 2 %)
GROUPS = ("day", "week", "channel", "priority", "agent", "tag")
HOURS = ("calendar", "business")
FIGURES = ("count", "p50_s", "p90_s", "mean_s")
CSV_COLUMNS = ("group", "created", "resolved", "reopened", "backlog",
               *(f"first_response_{f}" for f in FIGURES), *(f"resolution_{f}" for f in FIGURES),
               "sla_met", "sla_breached")


@dataclass(frozen=True)
class SummaryQuery:
    start: datetime  # aware, inclusive
    end: datetime    # aware, exclusive
    group_by: str
    tz: tzinfo
    tz_name: str
    hours: str


def summary(session: Session, workspace_id: int, query: SummaryQuery,
            exact_max: int | None = None) -> list[dict]:
    """The report's rows, one per group with at least one ticket, ordered by group; from the
    ticket rows up to ``exact_max`` tickets (default ``EXACT_MAX``), else from the rollup."""
    exact_max = EXACT_MAX if exact_max is None else exact_max
    if cohort_size(session, workspace_id, query, exact_max + 1) > exact_max:
        return report_rollup.summary(session.get_bind(), workspace_id, query)
    if session.get_bind().dialect.name == "postgresql":
        return summary_in_sql(session, workspace_id, query)
    return summary_in_python(session, workspace_id, query)


def cohort_size(session: Session, workspace_id: int, query: SummaryQuery, limit: int) -> int:
    """The tickets of the report, counted up to ``limit``: along the ``(workspace_id,
    created_at)`` index (ordered by it), never a table scan that may start anywhere."""
    some = (select(literal(1)).where(_cohort(workspace_id, query))
            .order_by(Ticket.created_at).limit(limit).subquery())
    return session.scalar(select(func.count()).select_from(some))


def _columns(hours: str):
    if hours == "business":
        return Ticket.first_response_bs, Ticket.resolution_bs
    return Ticket.first_response_s, Ticket.resolution_s


def _cohort(workspace_id: int, query: SummaryQuery):
    return and_(Ticket.workspace_id == workspace_id, Ticket.created_at >= query.start,
                Ticket.created_at < query.end, Ticket.merged_into_id.is_(None),
                Ticket.status.not_in(LEFT_OUT))


# --- PostgreSQL: one aggregate query ---------------------------------------------------------

def summary_in_sql(session: Session, workspace_id: int, query: SummaryQuery) -> list[dict]:
    first, resolution = _columns(query.hours)
    resolved = Ticket.status.in_(RESOLVED)
    resolution = case((resolved, resolution))
    key, source = _sql_group(query)

    def stats(column):
        return [func.count(column), func.percentile_cont(0.5).within_group(column),
                func.percentile_cont(0.9).within_group(column), func.avg(cast(column, Float))]

    counted = [func.count(),
               func.count(case((resolved, 1))),
               func.count(case((Ticket.reopen_count > 0, 1))),
               func.count(case((Ticket.status.not_in(ACTIVE_NOT), 1))),
               *stats(first), *stats(resolution),
               func.count(case((and_(resolved, Ticket.sla_breached.is_(False)), 1))),
               func.count(case((Ticket.sla_breached.is_(True), 1)))]
    statement = (select(key, *counted).select_from(source)
                 .where(_cohort(workspace_id, query)).group_by(key).order_by(key))
    return [_row(values) for values in session.execute(statement)]


def _sql_group(query: SummaryQuery):
    """The group's SQL expression and what to select from (tags: one row per tag)."""
    if query.group_by in ("day", "week"):
        local = func.timezone(literal(query.tz_name), Ticket.created_at)
        return func.to_char(func.date_trunc(query.group_by, local), "YYYY-MM-DD"), Ticket
    if query.group_by == "tag":
        tags = func.json_array_elements_text(Ticket.tags).table_valued("value").lateral("tag")
        return (func.coalesce(tags.c.value, ""),
                Ticket.__table__.outerjoin(tags, true()))
    column = {"channel": Ticket.channel, "priority": Ticket.priority,
              "agent": Ticket.assignee}[query.group_by]
    return func.coalesce(column, ""), Ticket


def _row(values) -> dict:
    (group, created, resolved, reopened, backlog, *rest) = values
    first, resolution, (met, breached) = rest[0:4], rest[4:8], rest[8:10]
    return {"group": group, "created": created, "resolved": resolved, "reopened": reopened,
            "backlog": backlog, "first_response": time_stats(*first),
            "resolution": time_stats(*resolution), "sla": {"met": met, "breached": breached}}


# --- SQLite (and any other store): read the rows, aggregate here -----------------------------

@dataclass
class _Group:
    created: int = 0
    resolved: int = 0
    reopened: int = 0
    backlog: int = 0
    met: int = 0
    breached: int = 0

    def __post_init__(self):
        self.first: list[float] = []
        self.resolution: list[float] = []


def summary_in_python(session: Session, workspace_id: int, query: SummaryQuery) -> list[dict]:
    first, resolution = _columns(query.hours)
    statement = select(Ticket.created_at, Ticket.channel, Ticket.priority, Ticket.assignee,
                       Ticket.tags, Ticket.status, Ticket.reopen_count, Ticket.sla_breached,
                       first, resolution).where(_cohort(workspace_id, query))
    groups: dict[str, _Group] = defaultdict(_Group)
    for row in session.execute(statement):
        for key in group_keys(row, query):
            _add(groups[key], row)
    return [_python_row(key, groups[key]) for key in sorted(groups)]


def _add(group: _Group, row) -> None:
    _ca, _ch, _pr, _as, _tags, status, reopens, breached, first, resolution = row
    resolved = status in RESOLVED
    group.created += 1
    group.resolved += resolved
    group.reopened += (reopens or 0) > 0
    group.backlog += status not in ACTIVE_NOT
    group.met += resolved and breached is False
    group.breached += breached is True
    if first is not None:
        group.first.append(first)
    if resolved and resolution is not None:
        group.resolution.append(resolution)


def _python_row(key: str, group: _Group) -> dict:
    return {"group": key, "created": group.created, "resolved": group.resolved,
            "reopened": group.reopened, "backlog": group.backlog,
            "first_response": stats_of(group.first),
            "resolution": stats_of(group.resolution),
            "sla": {"met": group.met, "breached": group.breached}}


def stats_of(values: list[float]) -> dict:
    if not values:
        return time_stats(0, None, None, None)
    ordered = sorted(values)
    return time_stats(len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.9),
                  math.fsum(ordered) / len(ordered))


def percentile(ordered: list[float], fraction: float) -> float:
    """``percentile_cont``: linear interpolation between the two nearest ranks."""
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- CSV --------------------------------------------------------------------------------------

def as_csv(rows: list[dict]) -> str:
    """One line per row, one column per figure (``first_response_p50_s``); empty: no value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row["group"]), row["created"], row["resolved"], row["reopened"],
                         row["backlog"],
                         *(csv_cell(row["first_response"][f]) for f in FIGURES),
                         *(csv_cell(row["resolution"][f]) for f in FIGURES),
                         row["sla"]["met"], row["sla"]["breached"]])
    return out.getvalue()


def csv_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    # A spreadsheet runs a cell starting with = + - @ as a formula (tags and agents are input).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
