"""The agents' status and capacity over time, for the agents report's occupancy.

One ``AgentState`` row when an agent is created (seeded from the workspace file or by
``PUT /api/v1/agents/<id>``) and each time its status, channel capacities or total change
(``tickets.agent_hours.state_changed``); a PUT that changes none of them (or only its name,
skills, calendar) writes nothing. The rows are few: one per change an administrator or an
agent's client makes, never one per assignment (the load over time is the assignments' own
``started_at``/``ended_at``).

``spans`` turns them into the stretches of time each agent was online with a given capacity.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Text, cast, func, or_, select, tuple_
from sqlalchemy.orm import Session

from routing.calendar import as_utc
from routing.model import Policy
from store.models import AgentState
from tickets.route_store import total_units

Shape = tuple[str, dict, float]  # status, capacity, total: what a state row records


def shape_of(row) -> Shape:
    """Of an Agent or AgentState row."""
    return row.status, dict(row.capacity or {}), float(row.total or 0.0)


@dataclass(frozen=True)
class Span:
    """An agent online from ``start`` to ``end`` (epoch seconds) able to hold ``units``."""
    start: float
    end: float
    units: float


def spans(session: Session, agent_ids: list[int], start: datetime, end: datetime,
          policy: Policy) -> dict[int, list[Span]]:
    """Agent id -> its online spans within ``[start, end)``, oldest first. Capacity in
    weighted units as routing counts it (``total``, else the channels' capacities weighted
    by the workspace's policy); a span of no capacity is left out."""
    if not agent_ids:
        return {}
    states: dict[int, list[tuple]] = {}
    units = _Units(policy)
    for agent_id, status, capacity, total, at in session.execute(_states(agent_ids, start, end)):
        states.setdefault(agent_id, []).append((status, units(capacity, total),
                                                as_utc(at).timestamp()))
    lo, hi = as_utc(start).timestamp(), as_utc(end).timestamp()
    return {agent_id: _online(rows, lo, hi) for agent_id, rows in states.items()}


class _Units:
    """Weighted capacity of a state row's (capacity JSON text, total), each distinct one
    computed once: agents change status far more often than capacity."""

    def __init__(self, policy: Policy):
        self.policy, self.known = policy, {}

    def __call__(self, capacity: str | None, total: float | None) -> float:
        key = (capacity, total)
        if key not in self.known:
            channels = json.loads(capacity) if capacity else {}
            self.known[key] = total_units(SimpleNamespace(capacity=channels, total=total),
                                          self.policy)
        return self.known[key]


def _states(agent_ids: list[int], start: datetime, end: datetime):
    """Each agent's last state before ``start`` (what it was when the range began) and every
    state within the range."""
    last_before = (select(AgentState.agent_id, func.max(AgentState.at))
                   .where(AgentState.agent_id.in_(agent_ids), AgentState.at <= start)
                   .group_by(AgentState.agent_id))
    return (select(AgentState.agent_id, AgentState.status, cast(AgentState.capacity, Text),
                   AgentState.total, AgentState.at)
            .where(AgentState.agent_id.in_(agent_ids),
                   or_(tuple_(AgentState.agent_id, AgentState.at).in_(last_before),
                       (AgentState.at > start) & (AgentState.at < end)))
            .order_by(AgentState.agent_id, AgentState.at, AgentState.id))


def _online(rows: list[tuple], lo: float, hi: float) -> list[Span]:
    """Spans of (status, units, since) rows, oldest first, within ``[lo, hi)``."""
    found = []
    for (status, units, since), following in zip(rows, [*rows[1:], None]):
        begin = max(lo, since)
        finish = hi if following is None else min(hi, following[2])
        if status == "online" and units > 0 and finish > begin:
            found.append(Span(begin, finish, units))
    return found
