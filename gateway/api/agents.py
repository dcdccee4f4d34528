"""Agents of the REST API (docs/api.md, docs/routing.md), under /api/v1 (``gateway.api.root``):
``GET /agents`` -> ``{"agents": [Agent]}``, ``GET /agents/<id>``, ``PUT /agents/<id>`` (201
created, 200 replaced).

Agent: ``id, name, email, skills {skill: 1-5}, capacity {channel: n}, status, load {channel: n},
departments, total, calendar, last_assigned_at``. ``load`` counts the agent's open assignments
(read-only, like ``last_assigned_at``: a PUT may carry them back and they are ignored). After a
PUT commits, routing reacts (``tickets.agents.reaction``) before the answer is built, so the
answer's ``load`` already shows the tickets an agent coming online was handed.

The workspace file's ``routing.agents`` are seeded into the store the first time a process
serves a workspace's agents or ticket patches (``ensure_seeded``); the store owns them after.
"""
from __future__ import annotations

import re

from flask import Blueprint, Flask, current_app, g, jsonify
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.routing import AGENT_ID
from gateway.api import schemas
from gateway.api.params import json_body
from gateway.api.spec import operation, reply
from gateway.app_runtime import runtime
from gateway.errors import ApiError, bad_request
from queues.runtime import Runtime
from routing.rules_schema import CHANNELS
from store import repo
from store.models import Agent, Assignment
from tickets import agents, reactions, routing_events
from tickets.wire import iso

bp = Blueprint("agents", __name__)
SEEDED = "ticketgate.agents_seeded"  # app.extensions key: workspace slug -> workspace row id
AGENT_KEY = re.compile(AGENT_ID)
NAME = "^[^\\x00-\\x1f\\x7f]{1,%d}$" % agents.MAX_NAME  # a skill or department name
# tickets.agents.EMAIL with \s spelled out: its \s (Python, Unicode) has \x85, JSON Schema's not
EMAIL = "^$|^[^@\\s\\x00-\\x1f\\x7f-\\x9f]+@[^@\\s\\x00-\\x1f\\x7f-\\x9f]+$"


class AgentId(BaseModel):
    id: str = Field(pattern=AGENT_ID, description="agent id")


def _document_agent_in(schema: dict) -> None:
    """The rules of ``tickets.agents.AgentIn``'s validators, for the document."""
    fields = schema["properties"]
    fields["email"]["pattern"] = EMAIL
    fields["skills"].update(propertyNames={"pattern": NAME},
                            additionalProperties={"type": "integer", "minimum": 1, "maximum": 5})
    fields["departments"]["items"]["pattern"] = NAME
    fields["capacity"].update(propertyNames={"enum": list(CHANNELS)}, additionalProperties={
        "type": "integer", "minimum": 0, "maximum": agents.MAX_CAPACITY})
    fields["calendar"]["description"] = ("a calendar of the workspace's routing block (another "
                                         "name is a 400), or empty")
    for name in ("id", *agents.READ_ONLY):  # the path's id; read-only fields are ignored
        fields.pop(name, None)
    schema["required"] = [n for n in schema.get("required", []) if n in fields]


class AgentPut(agents.AgentIn, json_schema_extra=_document_agent_in):
    """The PUT body as the document shows it: ``tickets.agents.AgentIn`` (which validates it,
    ``tickets.agents.validate``) with its validators' rules spelled out."""


@bp.get("/agents")
@operation("The workspace's agents with their load",
           {200: reply("Every agent", schemas.AgentList)})
def list_agents():
    rt = runtime()
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.read_sessions() as session:
        rows = session.scalars(select(Agent).where(Agent.workspace_id == workspace_id)
                               .order_by(Agent.key))
        loads = open_loads(session, workspace_id)
        return jsonify({"agents": [agent_json(r, loads.get(r.id, {})) for r in rows]})


@bp.get("/agents/<id>")
@operation("One agent", {200: reply("The agent", schemas.Agent)}, path=AgentId,
           errors=(401, 404, 503))
def get_agent(id: str):
    rt = runtime()
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.read_sessions() as session:
        return jsonify(_agent_body(session, workspace_id, id))


@bp.put("/agents/<id>")
@operation("Create or replace an agent (unset fields take their defaults: status offline, no "
           "skills, no capacity); routing reacts at once",
           {200: reply("Replaced", schemas.Agent), 201: reply("Created", schemas.Agent)},
           path=AgentId, body=AgentPut, errors=(400, 401, 503))
def put_agent(id: str):
    if not AGENT_KEY.fullmatch(id):
        raise bad_request({"id": "1-100 letters, digits and . _ @ -, starting with a letter "
                                 "or digit"})
    body = json_body()
    rt = runtime()
    workspace_id = ensure_seeded(current_app, g.workspace)
    created, reaction = _put(rt, workspace_id, id, body)
    if reaction is not None:
        routing_events.publish(rt, rt.config.workspace(g.workspace),
                               reactions.run(rt.sessions, [reaction]))
    with rt.read_sessions() as session:
        return jsonify(_agent_body(session, workspace_id, id)), 201 if created else 200


def _put(rt: Runtime, workspace_id: int, key: str, body: dict):
    config = rt.config.workspace(g.workspace)
    for last_try in (False, True):
        try:
            with rt.sessions.begin() as session:
                _row, created, reaction = agents.put_agent(session, config, workspace_id, key,
                                                           body)
            return created, reaction
        except agents.InvalidAgent as exc:
            raise bad_request(exc.fields) from exc
        except IntegrityError:  # a concurrent PUT created the agent first: replace it now
            if last_try:
                raise


def _agent_body(session: Session, workspace_id: int, key: str) -> dict:
    row = agent_row(session, workspace_id, key)
    return agent_json(row, open_loads(session, workspace_id, row.id).get(row.id, {}))


def agent_row(session: Session, workspace_id: int, key: str) -> Agent:
    """The workspace's agent ``key``; a 404 when there is none."""
    row = None
    if AGENT_KEY.fullmatch(key):
        row = session.scalar(select(Agent).where(Agent.workspace_id == workspace_id,
                                                 Agent.key == key))
    if row is None:
        raise ApiError(404, "not_found", f"agent {key[:100]!r} not found")
    return row


def ensure_seeded(app: Flask, slug: str) -> int:
    """The workspace's row id, after seeding its agents (once per process and workspace)."""
    seeded = app.extensions.setdefault(SEEDED, {})
    if slug not in seeded:
        rt = runtime(app)
        try:
            seeded[slug] = _seed(rt, slug)
        except IntegrityError:  # another process seeded at the same moment: its rows count
            seeded[slug] = _seed(rt, slug)
    return seeded[slug]


def _seed(rt: Runtime, slug: str) -> int:
    with rt.sessions.begin() as session:
        workspace = repo.workspace_row(session, slug)
        agents.seed_agents(session, workspace.id, rt.config.workspace(slug).routing)
        return workspace.id


def open_loads(session: Session, workspace_id: int,
               agent_id: int | None = None) -> dict[int, dict[str, int]]:
    """Open assignments per agent id and channel."""
    query = (select(Assignment.agent_id, Assignment.channel, func.count())
             .where(Assignment.workspace_id == workspace_id, Assignment.ended_at.is_(None))
             .group_by(Assignment.agent_id, Assignment.channel))
    if agent_id is not None:
        query = query.where(Assignment.agent_id == agent_id)
    loads: dict[int, dict[str, int]] = {}
    for owner, channel, count in session.execute(query):
        loads.setdefault(owner, {})[channel] = count
    return loads


def agent_json(row: Agent, load: dict[str, int]) -> dict:
    return {"id": row.key, "name": row.name, "email": row.email, "skills": row.skills or {},
            "capacity": row.capacity or {}, "status": row.status,
            "load": {**{channel: 0 for channel in row.capacity or {}}, **load},
            "departments": row.departments or [], "total": row.total,
            "calendar": row.calendar, "last_assigned_at": iso(row.last_assigned_at)}
