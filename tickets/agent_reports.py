"""The agents report (docs/api.md, ``GET /api/v1/reports/agents``): one row per agent
over the range ``[start, end)``, each figure counted where it happened in the range, as
helpdesks report agent performance (Freshdesk's "tickets assigned" and "tickets resolved",
Zendesk's "assigned tickets", "solved tickets" and "agent replies"):

- ``assigned``: tickets handed to the agent in the range (an assignment that began, an offer
  the agent accepted), each ticket once however often; ``resolved``: tickets whose last
  resolution (resolved or closed now) fell in the range while the agent held them;
  ``handled``: the tickets in either.
- ``replies``: the agent's replies sent in the range (``POST .../replies`` naming the agent
  as ``author``; never a note, an acknowledgement or any automatic message).
- ``first_response``: seconds from creation to the first reply, over the tickets whose first
  reply the agent sent in the range; ``resolution``: seconds from creation to the last
  resolution, over the tickets it resolved in the range. ``hours=business`` counts them on
  the SLA calendar, as the summary report does.
- ``sla``: of the tickets it resolved in the range and under an SLA policy, ``met`` those that
  never breached a target and ``breached`` those that did.
- ``online_s``: seconds the agent was online (up to now) in the range; ``occupancy``: the
  time-weighted mean, over those seconds, of its load (weighted units of the tickets it held
  or was offered) over its capacity then (its total, else its channels' capacities weighted);
  null when it was never online. Above 1 when it held more than its capacity (a capacity
  lowered under its load, a manager's hand-over).

Who: the first reply's author and the assignee at the last resolution are stamped on the
ticket as they happen (``tickets.sla_clock``); assignments and replies carry their agent.
Occupancy is counted by whole UTC hours, those starting in the range: the hours rolled up as
states and assignments ended (``tickets.agent_hours``), plus what is still going on.
Rows: every agent of the workspace, plus any other author or assignee name a figure carries
(``""``: a reply or resolution naming nobody), ordered by agent id. Merged, spam and deleted tickets
are left out of the ticket figures, as in the summary report; ``assigned`` and the load count
every ticket the agent held, and a reply counts wherever its ticket went.
"""
from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from sqlalchemy import Float, and_, case, cast, distinct, func, select, text
from sqlalchemy.orm import Session

from routing.calendar import as_utc
from routing.model import Policy
from store.models import REPLY_ROWS, Agent, Assignment, Message, Ticket
from tickets import agent_hours
from tickets.reports import FIGURES, LEFT_OUT, RESOLVED, csv_cell, stats_of, time_stats

COUNTS = ("assigned", "resolved", "handled", "replies")
CSV_COLUMNS = ("agent", "name", *COUNTS, *(f"first_response_{f}" for f in FIGURES),
               *(f"resolution_{f}" for f in FIGURES), "sla_met", "sla_breached", "online_s",
               "occupancy")
HOUR_S = agent_hours.HOUR_S


@dataclass(frozen=True)
class AgentQuery:
    start: datetime  # aware, inclusive
    end: datetime    # aware, exclusive
    tz: tzinfo
    tz_name: str
    hours: str


@dataclass
class _Figures:
    name: str = ""
    assigned: int = 0
    resolved: int = 0
    both: int = 0  # resolved tickets also assigned in the range
    replies: int = 0
    met: int = 0
    breached: int = 0
    online_s: float = 0.0
    load_s: float = 0.0
    first: dict | None = None
    resolution: dict | None = None


def agents_report(session: Session, workspace_id: int, query: AgentQuery, policy: Policy,
                  now: datetime) -> list[dict]:
    """The report's rows, ordered by agent id."""
    agents = {row.id: row for row in session.execute(
        select(Agent.id, Agent.key, Agent.name).where(Agent.workspace_id == workspace_id))}
    figures = defaultdict(_Figures, {row.key: _Figures(row.name) for row in agents.values()})
    _count_replies(session, workspace_id, query, figures)
    _first_responses(session, workspace_id, query, figures)
    _resolutions(session, workspace_id, list(agents), query, figures)
    _assigned(session, agents, query, figures)
    _occupancy(session, agents, query, policy, now, figures)
    return [_row(key, figures[key]) for key in sorted(figures)]


def _count_replies(session: Session, workspace_id: int, query: AgentQuery, figures) -> None:
    rows = session.execute(
        select(Message.author, func.count())
        .where(Message.workspace_id == workspace_id, text(REPLY_ROWS),
               Message.created_at >= query.start, Message.created_at < query.end)
        .group_by(Message.author))
    for author, count in rows:
        figures[author or ""].replies += count


def _kept(workspace_id: int):
    """The tickets the ticket figures count (as the summary report)."""
    return (Ticket.workspace_id == workspace_id, Ticket.merged_into_id.is_(None),
            Ticket.status.not_in(LEFT_OUT))


def _first_responses(session: Session, workspace_id: int, query: AgentQuery, figures) -> None:
    seconds = Ticket.first_response_bs if query.hours == "business" else Ticket.first_response_s
    found = _time_stats(session, Ticket.first_response_by, seconds, (
        *_kept(workspace_id), Ticket.first_response_at >= query.start,
        Ticket.first_response_at < query.end, Ticket.first_response_by.is_not(None)))
    for agent, value in found.items():
        figures[agent].first = value


def _resolved_in(workspace_id: int, query: AgentQuery):
    return (*_kept(workspace_id), Ticket.status.in_(RESOLVED), Ticket.resolved_at >= query.start,
            Ticket.resolved_at < query.end, Ticket.resolved_by.is_not(None))


def _resolutions(session: Session, workspace_id: int, agent_ids: list[int], query: AgentQuery,
                 figures) -> None:
    seconds = Ticket.resolution_bs if query.hours == "business" else Ticket.resolution_s
    conditions = _resolved_in(workspace_id, query)
    for agent, value in _time_stats(session, Ticket.resolved_by, seconds, conditions).items():
        figures[agent].resolution = value
    assigned = (select(Assignment.ticket_id, Agent.key)
                .join(Agent, Agent.id == Assignment.agent_id)
                .where(Assignment.agent_id.in_(agent_ids),  # through (agent_id, accepted_at)
                       Assignment.accepted_at >= query.start, Assignment.accepted_at < query.end)
                .distinct().subquery())
    rows = session.execute(
        select(Ticket.resolved_by, func.count(),
               func.count(case((Ticket.sla_breached.is_(False), 1))),
               func.count(case((Ticket.sla_breached.is_(True), 1))),
               func.count(assigned.c.ticket_id))
        .outerjoin(assigned, and_(assigned.c.ticket_id == Ticket.id,
                                  assigned.c.key == Ticket.resolved_by))
        .where(*conditions).group_by(Ticket.resolved_by))
    for agent, resolved, met, breached, both in rows:
        found = figures[agent]
        found.resolved, found.met, found.breached, found.both = resolved, met, breached, both


def _time_stats(session: Session, who, seconds, conditions) -> dict[str, dict]:
    """Per ``who``: count, percentiles and mean of ``seconds`` (nulls left out). PostgreSQL
    aggregates; other stores read the values (as ``tickets.reports`` does)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            select(who, func.count(seconds), func.percentile_cont(0.5).within_group(seconds),
                   func.percentile_cont(0.9).within_group(seconds), func.avg(cast(seconds, Float)))
            .where(*conditions).group_by(who))
        return {key: time_stats(*values) for key, *values in rows}
    values: dict[str, list[float]] = defaultdict(list)
    for key, value in session.execute(select(who, seconds).where(*conditions)):
        values[key].extend([] if value is None else [value])
    return {key: stats_of(found) for key, found in values.items()}


def _assigned(session: Session, agents: dict, query: AgentQuery, figures) -> None:
    """Tickets handed to each agent in the range: assignments accepted in it."""
    rows = session.execute(
        select(Assignment.agent_id, func.count(distinct(Assignment.ticket_id)))
        .where(Assignment.agent_id.in_(list(agents)),
               and_(Assignment.accepted_at >= query.start, Assignment.accepted_at < query.end))
        .group_by(Assignment.agent_id))
    for agent_id, count in rows:
        figures[agents[agent_id].key].assigned = count


def _occupancy(session: Session, agents: dict, query: AgentQuery, policy: Policy,
               now: datetime, figures) -> None:
    """Online time and load over the whole UTC hours starting in the range: rolled up, plus
    what is still going on up to now."""
    first = math.ceil(query.start.timestamp() / HOUR_S)
    last = math.ceil(query.end.timestamp() / HOUR_S)
    ids = list(agents)
    rolled = agent_hours.rolled_up(session, ids, first, last)
    start = datetime.fromtimestamp(first * HOUR_S, timezone.utc)
    until = min(as_utc(now), datetime.fromtimestamp(last * HOUR_S, timezone.utc))
    going_on = agent_hours.live(session, ids, start, until, policy)
    for agent_id, agent in agents.items():
        online, load = rolled.get(agent_id, (0.0, 0.0))
        live_online, live_load = going_on.get(agent_id, (0.0, 0.0))
        found = figures[agent.key]
        found.online_s, found.load_s = online + live_online, load + live_load


def _row(key: str, found: _Figures) -> dict:
    occupancy = found.load_s / found.online_s if found.online_s > 0 else None
    return {"agent": key, "name": found.name, "assigned": found.assigned,
            "resolved": found.resolved, "handled": found.assigned + found.resolved - found.both,
            "replies": found.replies, "first_response": found.first or stats_of([]),
            "resolution": found.resolution or stats_of([]),
            "sla": {"met": found.met, "breached": found.breached},
            "online_s": round(found.online_s, 3),
            "occupancy": None if occupancy is None else round(occupancy, 4)}


def as_csv(rows: list[dict]) -> str:
    """One line per agent, one column per figure (``first_response_p50_s``); empty: none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row["agent"]), csv_cell(row["name"]),
                         *(row[name] for name in COUNTS),
                         *(csv_cell(row["first_response"][f]) for f in FIGURES),
                         *(csv_cell(row["resolution"][f]) for f in FIGURES),
                         row["sla"]["met"], row["sla"]["breached"], row["online_s"],
                         csv_cell(row["occupancy"])])
    return out.getvalue()
