"""Presence of agents on a ticket (``tickets.presence``), under /api/v1:
``POST /tickets/<n>/presence`` {agent, state: viewing|typing} renews the agent's entry for 60 s
and answers who is on the ticket; ``GET /tickets/<n>/presence`` only answers that.

An unknown ticket is a 404 ``not_found``, an agent unknown to the workspace a 404
``agent_not_found`` naming ``agent`` (as ``PATCH`` answers for ``assignee``). Stored in Redis
only: a Redis outage is the API's usual 503.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from flask import Blueprint, current_app, g, jsonify
from pydantic import Field
from sqlalchemy import select

from config.routing import AGENT_ID
from gateway.api import schemas
from gateway.api.agents import ensure_seeded
from gateway.api.params import TicketNumber, json_body
from gateway.api.requests import ApiRequest
from gateway.api.spec import operation, reply
from gateway.api.tickets import ticket_of
from gateway.app_runtime import runtime
from gateway.errors import ApiError
from store import repo
from store.models import Agent
from tickets import presence

bp = Blueprint("presence", __name__)


class PresenceIn(ApiRequest):
    """``POST /tickets/<n>/presence``."""
    MESSAGES = {"agent": "required: an agent id of this workspace",
                "state": "required: viewing or typing"}
    agent: str = Field(pattern=AGENT_ID, description="the agent's id")
    state: Literal["viewing", "typing"]


@bp.post("/tickets/<int:number>/presence")
@operation("Say an agent is viewing the ticket or typing an answer (for the next 60 s); "
           "answers who is on the ticket", {200: reply("Who is on the ticket",
                                                       schemas.PresenceList)},
           path=TicketNumber, body=PresenceIn, errors=(400, 401, 404, 503))
def post_presence(number: int):
    body = PresenceIn.parse(json_body())
    rt = runtime()
    ensure_seeded(current_app, g.workspace)
    with rt.read_sessions() as session:
        ticket_number = _survivor_number(session, number)
        if session.scalar(select(Agent.id).where(Agent.workspace_id == _workspace_id(),
                                                 Agent.key == body.agent)) is None:
            raise ApiError(404, "agent_not_found", f"no agent {body.agent!r} in this workspace",
                           {"agent": "no such agent in this workspace"})
    presence.renew(rt.redis, g.workspace, ticket_number, body.agent, body.state)
    return _answer(rt, ticket_number)


@bp.get("/tickets/<int:number>/presence")
@operation("Who is on the ticket: agents viewing it or typing, each for 60 s after their "
           "latest POST", {200: reply("Who is on the ticket", schemas.PresenceList)},
           path=TicketNumber, errors=(401, 404, 503))
def get_presence(number: int):
    rt = runtime()
    with rt.read_sessions() as session:
        ticket_number = _survivor_number(session, number)
    return _answer(rt, ticket_number)


def _survivor_number(session, number: int) -> int:
    """Presence of a merged ticket is its survivor's, where replies to it land."""
    return repo.survivor(session, ticket_of(session, number)).number


def _workspace_id() -> int:
    return ensure_seeded(current_app, g.workspace)


def _answer(rt, number: int):
    entries = presence.present(rt.redis, g.workspace, number)
    names = {}
    if entries:
        with rt.read_sessions() as session:
            names = dict(session.execute(select(Agent.key, Agent.name).where(
                Agent.workspace_id == _workspace_id(),
                Agent.key.in_([e.agent for e in entries]))).all())
    return jsonify({"presence": [
        {"agent": e.agent, "name": names.get(e.agent, ""), "state": e.state,
         "since": _iso(e.since), "expires_at": _iso(e.expires_at)}
        for e in entries if e.agent in names]})


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
