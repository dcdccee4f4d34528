"""Offer-and-accept through the API (``tickets.offers``): an agent's desktop lists its open
offers and answers each one before it expires.

Under /api/v1 (``gateway.api.root``):

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
from pydantic import Field
from sqlalchemy import select

from config.routing import AGENT_ID
from gateway.api import schemas
from gateway.api.actions import notify_change
from gateway.api.agents import AgentId, agent_row, ensure_seeded
from gateway.api.params import TicketNumber, json_body
from gateway.api.patch import _ticket, ticket_answer
from gateway.api.requests import ApiRequest
from gateway.api.spec import operation, reply
from gateway.app_runtime import runtime
from gateway.errors import ApiError
from store.models import Assignment, Ticket
from tickets import offers, reactions, routing_events
from tickets.offers import OfferRefused
from tickets.wire import iso

bp = Blueprint("offers", __name__)
MAX_OFFERS = 200  # open offers listed for one agent
ANSWER_ERRORS = (400, 401, 404, 409, 503)


class OfferAnswer(ApiRequest):
    """The body of accept and decline."""
    MESSAGES = {"agent": f"required: the agent's id ({AGENT_ID})",
                "extra_forbidden": "unknown field"}
    agent: str = Field(pattern=AGENT_ID, description="the agent the ticket is offered to")


@bp.get("/agents/<id>/offers")
@operation("The agent's open offers (offer-and-accept channels), oldest first",
           {200: reply("Open offers", schemas.OfferList)}, path=AgentId,
           errors=(401, 404, 503))
def list_offers(id: str):
    rt = runtime()
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
@operation("Accept an offer: the agent becomes the assignee",
           {200: reply("The ticket", schemas.Ticket)}, path=TicketNumber, body=OfferAnswer,
           errors=ANSWER_ERRORS)
def accept(number: int):
    rt, agent = runtime(), OfferAnswer.parse(json_body()).agent
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.sessions.begin() as session:
        ticket = _ticket(session, workspace_id, number)
        decision = _answered(offers.accept, session, ticket, agent)
        ticket_id = ticket.id
    routing_events.publish(rt, rt.config.workspace(g.workspace), [decision])
    return ticket_answer(rt, ticket_id)


@bp.post("/tickets/<int:number>/decline")
@operation("Decline an offer: the ticket is routed again, never to this agent",
           {200: reply("The ticket after routing", schemas.Ticket)}, path=TicketNumber,
           body=OfferAnswer, errors=ANSWER_ERRORS)
def decline(number: int):
    rt, agent = runtime(), OfferAnswer.parse(json_body()).agent
    config = rt.config.workspace(g.workspace)
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.sessions.begin() as session:
        ticket = _ticket(session, workspace_id, number)
        after = _answered(offers.decline, session, config, ticket, agent)
        ticket_id = ticket.id
    notify_change(rt, config, number, {"kind": "offer_declined", "agent": agent})
    routing_events.publish(rt, config, reactions.run(rt.sessions, after))
    return ticket_answer(rt, ticket_id)


def _answered(action, *args):
    try:
        return action(*args)
    except OfferRefused as exc:
        raise ApiError(409, exc.code, str(exc)) from exc


def _offer_json(ticket: Ticket, offer: Assignment) -> dict:
    return {"number": ticket.number, "channel": ticket.channel, "subject": ticket.subject,
            "priority": ticket.priority, "offered_at": iso(offer.started_at),
            "expires_at": iso(offer.offer_expires_at)}
