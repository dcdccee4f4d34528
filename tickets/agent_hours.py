"""Agents' online time and load per UTC hour, rolled up as things happen (``agent_hours``), so
the agents report reads at most one row per agent and hour of its range, whatever the number
of tickets.

Per agent and hour: ``online_s``, the seconds it was online with some capacity, and
``load_s``, the integral of its load over its capacity while online (a ticket held for an hour
by an agent of 4 units while online adds 0.25 h x weight). Added when they can no longer
change:

- ``state_changed``: an agent's state (``tickets.agent_history``) gives way to a new one:
  the seconds it was online in the old state, split by hour.
- ``assignment_ended`` (``tickets.assign.release``, the one place an assignment ends): the
  ticket's units over the agent's online spans during the assignment, split by hour.

Both run with the agent's row locked (a release recounts the locked agent; a PUT locks it), so
two transactions never add the same seconds. What is still going on (the current state, the
open assignments) is not rolled up yet: the report adds it from the rows
(:func:`live`). An hour's row is an upsert (``INSERT ... ON CONFLICT DO UPDATE``), one per
hour touched: an assignment or a state of a few hours writes a few rows.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from routing.calendar import as_utc
from routing.model import Policy
from store import repo
from store.models import Agent, AgentHour, AgentState, Assignment
from tickets import agent_history
from tickets.route_store import total_units
from tickets.occupancy import weighted_load

HOUR_S = 3600


def by_hour(start: float, end: float, weight: float, into: dict[int, float]) -> None:
    """Add ``weight`` x the seconds of ``[start, end)`` (epoch seconds) to ``into`` by hour."""
    while start < end:
        hour = int(start // HOUR_S)
        stop = min(end, (hour + 1) * HOUR_S)
        into[hour] += weight * (stop - start)
        start = stop


def state_changed(session: Session, row: Agent, at: datetime, policy: Policy,
                  created: bool = False) -> None:
    """The (flushed, locked or just ``created``) agent's state from ``at`` on: a new
    ``AgentState`` unless it is the latest one's; the one it replaces is rolled up."""
    previous = None if created else session.scalar(
        select(AgentState).where(AgentState.agent_id == row.id)
        .order_by(AgentState.at.desc(), AgentState.id.desc()).limit(1))
    if previous is not None:
        if agent_history.shape_of(previous) == agent_history.shape_of(row):
            return
        _state_replaced(session, previous, total_units(previous, policy), at)
    status, capacity, total = agent_history.shape_of(row)
    session.add(AgentState(workspace_id=row.workspace_id, agent_id=row.id, status=status,
                           capacity=capacity, total=total, at=at))


def states_created(session: Session, rows: list[Agent], at: datetime) -> None:
    """The first state of each of the (flushed) new agents, in one statement (a seeded file
    may list thousands)."""
    repo.insert_rows(session, AgentState, [
        {"workspace_id": row.workspace_id, "agent_id": row.id, "status": status,
         "capacity": capacity, "total": total, "at": at}
        for row in rows for status, capacity, total in [agent_history.shape_of(row)]])


def _state_replaced(session: Session, previous: AgentState, units: float,
                    now: datetime) -> None:
    """``previous`` gives way at ``now``: its online seconds, by hour."""
    if previous.status != "online" or units <= 0:
        return
    seconds: dict[int, float] = defaultdict(float)
    by_hour(as_utc(previous.at).timestamp(), as_utc(now).timestamp(), 1.0, seconds)
    _add(session, previous.agent_id, previous.workspace_id,
         {h: (s, 0.0) for h, s in seconds.items()})


def assignment_ended(session: Session, row: Assignment, policy: Policy) -> None:
    """The (flushed) assignment ``row`` just ended: its load over the online spans."""
    if row.ended_at is None:
        return
    start, end = as_utc(row.started_at), as_utc(row.ended_at)
    spans = agent_history.spans(session, [row.agent_id], start, end, policy).get(
        row.agent_id, [])
    load: dict[int, float] = defaultdict(float)
    for span in spans:
        by_hour(span.start, span.end, (row.units or 0.0) / span.units, load)
    if load:
        _add(session, row.agent_id, row.workspace_id, {h: (0.0, s) for h, s in load.items()})


def _add(session: Session, agent_id: int, workspace_id: int,
         hours: dict[int, tuple[float, float]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = AgentHour.__table__
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.agent_id, table.c.hour],
        set_={"online_s": table.c.online_s + statement.excluded.online_s,
              "load_s": table.c.load_s + statement.excluded.load_s})
    session.execute(statement, [
        {"agent_id": agent_id, "workspace_id": workspace_id, "hour": hour, "online_s": online,
         "load_s": load} for hour, (online, load) in sorted(hours.items())])


def rolled_up(session: Session, agent_ids: list[int], first: int,
              last: int) -> dict[int, tuple[float, float]]:
    """Agent id -> (online_s, load_s) summed over the hours ``[first, last)``."""
    if not agent_ids or last <= first:
        return {}
    rows = session.execute(
        select(AgentHour.agent_id, func.sum(AgentHour.online_s), func.sum(AgentHour.load_s))
        .where(AgentHour.agent_id.in_(agent_ids), AgentHour.hour >= first,
               AgentHour.hour < last).group_by(AgentHour.agent_id))
    return {agent_id: (online or 0.0, load or 0.0) for agent_id, online, load in rows}


def live(session: Session, agent_ids: list[int], start: datetime, end: datetime,
         policy: Policy) -> dict[int, tuple[float, float]]:
    """Agent id -> (online_s, load_s) within ``[start, end)`` not rolled up yet: the time
    online in each agent's current state, the load of its open assignments."""
    if not agent_ids or end <= start:
        return {}
    spans = agent_history.spans(session, agent_ids, start, end, policy)
    since = _current_states(session, agent_ids)
    held: dict[int, list] = defaultdict(list)
    lo, hi = start.timestamp(), end.timestamp()
    for agent_id, units, started in session.execute(
            select(Assignment.agent_id, Assignment.units, Assignment.started_at)
            .where(Assignment.agent_id.in_(agent_ids), Assignment.ended_at.is_(None),
                   Assignment.started_at < end)):
        held[agent_id].append((max(lo, as_utc(started).timestamp()), hi, units or 0.0))
    found = {}
    for agent_id in agent_ids:
        mine = spans.get(agent_id, [])
        # The current state's span, if online: the last one, from when that state began.
        current = mine[-1] if mine and agent_id in since and mine[-1].end == hi \
            and mine[-1].start == max(lo, since[agent_id]) else None
        online = current.end - current.start if current is not None else 0.0
        found[agent_id] = (online, weighted_load(mine, held.get(agent_id, [])))
    return found


def _current_states(session: Session, agent_ids: list[int]) -> dict[int, float]:
    """Agent id -> since when (epoch seconds) its latest state holds."""
    rows = session.execute(select(AgentState.agent_id, func.max(AgentState.at))
                           .where(AgentState.agent_id.in_(agent_ids))
                           .group_by(AgentState.agent_id))
    return {agent_id: as_utc(at).timestamp() for agent_id, at in rows}
