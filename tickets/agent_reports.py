"""The agents report (PRODUCT.md section 9, ``GET /api/v1/reports/agents``): one row per agent
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
ticket as they happen (``tickets.sla_clock``); assignments and replies carry their agent; the
agents' status and capacity over time are ``agent_states`` rows (``tickets.agent_history``).
Rows: every agent of the workspace, plus any other author or assignee name a figure carries
(``""``: a reply or resolution naming nobody), ordered by agent id. Merged, spam and deleted tickets
are left out of the ticket figures, as in the summary report; ``assigned`` and the load count
every ticket the agent held, and a reply counts wherever its ticket went.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from routing.calendar import as_utc
from routing.model import Policy
from store.models import REPLY_ROWS, Agent, Assignment, Message, Ticket
from tickets import agent_history
from tickets.occupancy import occupancy
from tickets.reports import FIGURES, LEFT_OUT, RESOLVED, csv_cell, stats_of

COUNTS = ("assigned", "resolved", "handled", "replies")
CSV_COLUMNS = ("agent", "name", *COUNTS, *(f"first_response_{f}" for f in FIGURES),
               *(f"resolution_{f}" for f in FIGURES), "sla_met", "sla_breached", "online_s",
               "occupancy")


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
    replies: int = 0
    met: int = 0
    breached: int = 0
    online_s: float = 0.0
    occupancy: float | None = None
    assigned: set = field(default_factory=set)
    resolved: set = field(default_factory=set)
    first: list = field(default_factory=list)
    resolution: list = field(default_factory=list)


def agents_report(session: Session, workspace_id: int, query: AgentQuery, policy: Policy,
                  now: datetime) -> list[dict]:
    """The report's rows, ordered by agent id."""
    agents = {row.id: row for row in session.execute(
        select(Agent.id, Agent.key, Agent.name).where(Agent.workspace_id == workspace_id))}
    figures: dict[str, _Figures] = {row.key: _Figures(row.name) for row in agents.values()}
    figures = defaultdict(_Figures, figures)
    _count_replies(session, workspace_id, query, figures)
    _first_responses(session, workspace_id, query, figures)
    _resolutions(session, workspace_id, query, figures)
    _holding(session, agents, query, policy, min(as_utc(now), query.end), figures)
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
    rows = session.execute(select(Ticket.first_response_by, seconds).where(
        *_kept(workspace_id), Ticket.first_response_at >= query.start,
        Ticket.first_response_at < query.end, Ticket.first_response_by.is_not(None)))
    for author, value in rows:
        if value is not None:
            figures[author].first.append(value)


def _resolutions(session: Session, workspace_id: int, query: AgentQuery, figures) -> None:
    seconds = Ticket.resolution_bs if query.hours == "business" else Ticket.resolution_s
    rows = session.execute(select(Ticket.id, Ticket.resolved_by, seconds, Ticket.sla_breached)
                           .where(*_kept(workspace_id), Ticket.status.in_(RESOLVED),
                                  Ticket.resolved_at >= query.start,
                                  Ticket.resolved_at < query.end,
                                  Ticket.resolved_by.is_not(None)))
    for ticket_id, agent, value, breached in rows:
        found = figures[agent]
        found.resolved.add(ticket_id)
        if value is not None:
            found.resolution.append(value)
        found.met += breached is False
        found.breached += breached is True


def _holding(session: Session, agents: dict, query: AgentQuery, policy: Policy,
             until: datetime, figures) -> None:
    """Assigned tickets and occupancy, from the assignments open at some time in the range."""
    held: dict[int, list] = defaultdict(list)
    lo, hi = query.start.timestamp(), until.timestamp()
    rows = session.execute(
        select(Assignment.agent_id, Assignment.ticket_id, Assignment.units,
               Assignment.started_at, Assignment.ended_at, Assignment.accepted_at)
        .where(Assignment.agent_id.in_(list(agents)), Assignment.started_at < query.end,
               or_(Assignment.ended_at.is_(None), Assignment.ended_at >= query.start)))
    for agent_id, ticket_id, units, started, ended, accepted in rows:
        if accepted is not None and query.start <= as_utc(accepted) < query.end:
            figures[agents[agent_id].key].assigned.add(ticket_id)
        start = max(lo, as_utc(started).timestamp())
        end = min(hi, as_utc(ended).timestamp() if ended is not None else hi)
        held[agent_id].append((start, end, units or 0.0))
    spans = agent_history.spans(session, list(agents), query.start, until, policy) \
        if until > query.start else {}
    for agent_id, agent in agents.items():
        found = occupancy(spans.get(agent_id, []), held.get(agent_id, []))
        figures[agent.key].online_s, figures[agent.key].occupancy = found.online_s, found.ratio


def _row(key: str, found: _Figures) -> dict:
    return {"agent": key, "name": found.name, "assigned": len(found.assigned),
            "resolved": len(found.resolved), "handled": len(found.assigned | found.resolved),
            "replies": found.replies, "first_response": stats_of(found.first),
            "resolution": stats_of(found.resolution),
            "sla": {"met": found.met, "breached": found.breached},
            "online_s": round(found.online_s, 3),
            "occupancy": None if found.occupancy is None else round(found.occupancy, 4)}


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
