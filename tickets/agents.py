"""Agents of a workspace in the store: seeded from the workspace file, then owned by the API.

``seed_agents`` inserts the agents the ``routing.agents`` block lists and the store does not
know yet; it never overwrites (after the first start ``PUT /api/v1/agents/<id>`` is the truth).
``put_agent`` validates and creates or replaces one agent, and returns the routing reaction the
change calls for, to run after the commit (``tickets.reactions``): an online agent is handed
the waiting tickets it can now take, an agent who goes away or offline loses its tickets as the
workspace's ``policy.on_absence`` says. ``load`` is never written here: it is counted from the
open assignments.
"""
from __future__ import annotations

import re

from pydantic import Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.routing import AgentSpec, Routing
from config.workspaces import WorkspaceConfig
from routing.rules_schema import CHANNELS
from store.models import Agent, utcnow
from tickets import agent_hours, reactions
from tickets.reactions import Reaction

MAX_SKILLS = 200         # skills (languages included) of one agent
MAX_NAME = 100           # characters of a skill, department or channel name
MAX_DEPARTMENTS = 50
MAX_CAPACITY = 10_000    # concurrent tickets of one channel
MAX_TOTAL = 1_000_000.0  # weighted units
READ_ONLY = ("load", "last_assigned_at")  # shown by GET; accepted and ignored by PUT
CONTROLS = re.compile(r"[\x00-\x1f\x7f]")  # never stored: PostgreSQL refuses NUL in text
NO_CONTROLS = r"^[^\x00-\x1f\x7f]*$"
EMAIL = r"^$|^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"  # empty, or one @ between words


class InvalidAgent(ValueError):
    """The agent is invalid; ``fields`` maps each bad field (dotted path) to its problem."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class AgentIn(AgentSpec):
    """An agent as the API accepts it: the workspace file's schema with the store's limits."""
    name: str = Field("", max_length=300, pattern=NO_CONTROLS)
    email: str = Field("", max_length=320, pattern=EMAIL)
    skills: dict[str, int] = Field({}, max_length=MAX_SKILLS)
    departments: tuple[str, ...] = Field((), max_length=MAX_DEPARTMENTS)
    capacity: dict[str, int] = {}
    total: float = Field(0, ge=0, le=MAX_TOTAL)
    calendar: str = Field("", max_length=63)

    @field_validator("skills", "departments")
    @classmethod
    def _names(cls, value):
        if any(not 0 < len(name) <= MAX_NAME or CONTROLS.search(name) for name in value):
            raise ValueError(f"names must be 1-{MAX_NAME} characters, no control characters")
        return value

    @field_validator("capacity")
    @classmethod
    def _channels(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel {unknown[0]!r}; one of {', '.join(CHANNELS)}")
        if any(not 0 <= n <= MAX_CAPACITY for n in value.values()):
            raise ValueError(f"capacities must be 0-{MAX_CAPACITY}")
        return value


def seed_agents(session: Session, workspace_id: int, routing: Routing) -> int:
    """Insert the workspace file's agents the store lacks; returns how many were inserted."""
    known = set(session.scalars(select(Agent.key).where(Agent.workspace_id == workspace_id)))
    fresh = [spec for spec in routing.agents if spec.id not in known]
    rows = []
    for spec in fresh:
        row = Agent(workspace_id=workspace_id, key=spec.id, load={}, used=0.0)
        _copy(spec, row)
        session.add(row)
        rows.append(row)
    session.flush()
    agent_hours.states_created(session, rows, utcnow())
    return len(fresh)


def validate(config: WorkspaceConfig, key: str, data: dict) -> AgentIn:
    """``data`` (the PUT body) as an agent of id ``key``; :class:`InvalidAgent` otherwise."""
    if "id" in data and data["id"] != key:
        raise InvalidAgent({"id": "must be the id of the path"})
    body = {k: v for k, v in data.items() if k not in READ_ONLY}
    try:
        spec = AgentIn.model_validate({**body, "id": key})
    except ValidationError as exc:
        raise InvalidAgent({".".join(str(p) for p in e["loc"]) or "body": e["msg"]
                            for e in exc.errors()}) from None
    if spec.calendar and spec.calendar not in config.routing.calendars:
        known = ", ".join(sorted(config.routing.calendars)) or "none configured"
        raise InvalidAgent({"calendar": f"unknown calendar {spec.calendar!r} ({known})"})
    return spec


def put_agent(session: Session, config: WorkspaceConfig, workspace_id: int, key: str,
              spec: dict) -> tuple[Agent, bool, Reaction | None]:
    """Create or replace agent ``key``: ``(row, created, reaction to run after the commit)``."""
    checked = validate(config, key, spec)
    row = session.scalar(select(Agent).where(Agent.workspace_id == workspace_id,
                                             Agent.key == key).with_for_update())
    created = row is None
    if created:
        row = Agent(workspace_id=workspace_id, key=key, load={}, used=0.0)
        session.add(row)
    before = row.status
    _copy(checked, row)
    row.updated_at = utcnow()
    session.flush()
    agent_hours.state_changed(session, row, row.updated_at, config.routing.make_policy(),
                              created)
    return row, created, reaction(config, workspace_id, key, before, row.status)


def reaction(config: WorkspaceConfig, workspace_id: int, key: str, before: str | None,
             after: str) -> Reaction | None:
    """Online: take waiting tickets (it may have come online, got room or skills). Gone away
    or offline: give up tickets per ``policy.on_absence``."""
    if after == "online":
        return reactions.refill(config, workspace_id, key)
    if before is not None and before != after:
        return reactions.absence(config, workspace_id, key)
    return None


def _copy(spec: AgentSpec, row: Agent) -> None:
    row.name, row.email, row.status = spec.name, spec.email, spec.status
    row.calendar, row.skills, row.capacity = spec.calendar, dict(spec.skills), dict(spec.capacity)
    row.departments, row.total = list(spec.departments), float(spec.total)
