"""Offer-and-accept through the API (``tickets.offers``): an agent's desktop lists its open
offers and answers each one before it expires.

- ``GET /api/v1/agents/<id>/offers`` -> ``{"offers": [{number, channel, subject, priority,
  offered_at, expires_at}]}``, oldest first.
- ``POST /api/v1/tickets/<number>/accept`` ``{"agent": id}`` -> the Ticket, assigned to the agent.
- ``POST /api/v1/tickets/<number>/decline`` ``{"agent": id}`` -> the Ticket after it was routed
  again (offered or assigned to someone else, or waiting); the agent is not offered it again.

A ticket that is not offered to that agent (any more) is a 409 ``not_offered``, an offer past
its deadline a 409 ``offer_expired`` (the sweep re-routes it), an unknown ticket or agent a 404.
Accepting and declining push webhook events like every routing decision
(``tickets.routing_events``); a decline also an ``offer_declined`` event.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from sqlalchemy import select

from config.routing import AGENT_ID
from gateway.api import auth
from gateway.api.actions import _notify
from gateway.api.agents import AGENT_KEY, agent_row, ensure_seeded
from gateway.api.patch import _ticket, ticket_answer
from gateway.errors import ApiError, bad_request
from gateway.api.params import json_body
from tickets.wire import iso
from gateway.web import runtime_of
from store.models import Assignment, Ticket
from tickets import offers, reactions, routing_events
from tickets.offers import OfferRefused

bp = Blueprint("api_offers", __name__)
MAX_OFFERS = 200  # open offers listed for one agent


@bp.before_request
def _authenticate() -> None:
    g.workspace = auth.authenticate()


@bp.get("/agents/<id>/offers")
def list_offers(id: str):
    rt = runtime_of(current_app)
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.read_sessions() as session:
        agent = agent_row(session, workspace_id, id)
        rows = session.execute(
            select(Ticket, Assignment).join(Assignment, Assignment.ticket_id == Ticket.id)
            .where(Assignment.agent_id == agent.id, Assignment.ended_at.is_(None),
                   Assignment.accepted_at.is_(None))
            .order_by(Assignment.started_at, Assignment.id).limit(MAX_OFFERS)).all()
        return jsonify({"offers": [_offer_json(ticket, row) for ticket, row in rows]})


@bp.post("/tickets/<int:number>/accept")
def accept(number: int):
    rt, agent = runtime_of(current_app), _agent_of(json_body())
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.sessions.begin() as session:
        ticket = _ticket(session, workspace_id, number)
        decision = _answered(offers.accept, session, ticket, agent)
        ticket_id = ticket.id
    routing_events.publish(rt, rt.config.workspace(g.workspace), [decision])
    return ticket_answer(rt, ticket_id)


@bp.post("/tickets/<int:number>/decline")
def decline(number: int):
    rt, agent = runtime_of(current_app), _agent_of(json_body())
    config = rt.config.workspace(g.workspace)
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.sessions.begin() as session:
        ticket = _ticket(session, workspace_id, number)
        after = _answered(offers.decline, session, config, ticket, agent)
        ticket_id = ticket.id
    _notify(rt, config, number, {"kind": "offer_declined", "agent": agent})
    routing_events.publish(rt, config, reactions.run(rt.sessions, after))
    return ticket_answer(rt, ticket_id)


def _answered(action, *args):
    try:
        return action(*args)
    except OfferRefused as exc:
        raise ApiError(409, exc.code, str(exc)) from exc


def _agent_of(body: dict) -> str:
    agent = body.get("agent")
    if not isinstance(agent, str) or not AGENT_KEY.fullmatch(agent):
        raise bad_request({"agent": f"required: the agent's id ({AGENT_ID})"})
    unknown = sorted(set(body) - {"agent"})
    if unknown:
        raise bad_request({name[:100]: "unknown field" for name in unknown})
    return agent


def _offer_json(ticket: Ticket, offer: Assignment) -> dict:
    return {"number": ticket.number, "channel": ticket.channel, "subject": ticket.subject,
            "priority": ticket.priority, "offered_at": iso(offer.started_at),
            "expires_at": iso(offer.offer_expires_at)}
