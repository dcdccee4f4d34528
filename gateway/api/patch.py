"""``PATCH /api/v1/tickets/<number>`` (docs/api.md, under ``gateway.api.root``): change status,
priority, assignee (an agent id, or null) and tags (the new list), optionally naming the
``author`` recorded in the audit trail (default ``api``).

Validation comes first: an unknown field is a 400 naming it, a bad value a 400 naming its
field, an empty patch a 400. The change itself is ``tickets.changes.patch_ticket``
(semantics there); an unknown agent is a 404 ``agent_not_found``, a full agent a 409
``agent_full``, both naming ``assignee``. A merged ticket forwards to its survivor, as replies
and notes do: the answer is the survivor (its ``number`` says so). After the commit routing
reacts (refill, re-route), the outbound webhook gets one ``{"kind": "updated", "changes":
{field: {old, new}}}`` event, and the answer is the Ticket as it is then (200).
"""
from __future__ import annotations

from typing import Annotated

from flask import Blueprint, current_app, g, jsonify
from pydantic import Field, StringConstraints
from sqlalchemy import select

from config.routing import AGENT_ID
from gateway.api import collision, params as wire, schemas
from gateway.api.action_input import TICKET_CHANGED, Author
from gateway.api.actions import notify_change
from gateway.api.agents import ensure_seeded
from gateway.api.params import TicketNumber, json_body
from gateway.api.requests import ONE_LINE_NOT_BLANK, ApiRequest
from gateway.api.schemas import Priority, Status
from gateway.api.spec import operation, reply
from gateway.app_runtime import runtime
from gateway.errors import ApiError, bad_request
from store import repo
from store.models import Ticket
from tickets import changes as ticket_changes, reactions, routing_events
from tickets.changes import ChangeRefused
from tickets.wire import load_relations, ticket_json

bp = Blueprint("patch", __name__)
MAX_TAGS = 50       # tags of one ticket
MAX_TAG = 50        # characters of one tag
CHANGEABLE = ("status", "priority", "assignee", "tags")  # a patch names one of these at least
REFUSALS = {"agent_not_found": 404, "agent_full": 409}  # ChangeRefused code -> HTTP status
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG,
                                       pattern=ONE_LINE_NOT_BLANK)]


def at_least_one_of(*names: str) -> dict:
    """JSON Schema of a body that must name one of ``names`` (an empty patch is a 400)."""
    return {"anyOf": [{"required": [name]} for name in names]}


class TicketPatch(ApiRequest, json_schema_extra=at_least_one_of(*CHANGEABLE)):
    """The body; only the fields sent are changed (``assignee: null`` unassigns)."""
    status: Status = None  # a field left out is left as it is: no default documented
    priority: Priority = None
    assignee: Annotated[str, Field(pattern=AGENT_ID)] | None = Field(
        None, description="agent id; null: back to routing")
    tags: list[Tag] = Field(None, max_length=MAX_TAGS, description="the new list (replaces)")
    author: Author = ""


@bp.patch("/tickets/<int:number>")
@operation("Change status, priority, assignee or tags; each change is audited, routing and the "
           "SLA clock react, a merged ticket forwards to its survivor",
           {200: reply("The ticket after the change (with its new `ETag`)", schemas.Ticket),
            412: TICKET_CHANGED}, path=TicketNumber, headers=collision.IfMatchHeaders,
           body=TicketPatch, errors=(400, 401, 404, 409, 503))
def patch_ticket(number: int):
    changes, actor = parse(json_body())
    wanted = collision.if_match()
    rt = runtime()
    config = rt.config.workspace(g.workspace)
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.sessions.begin() as session:
        addressed = _ticket(session, workspace_id, number)
        collision.guard(session, addressed, wanted)
        ticket = repo.survivor(session, addressed)
        try:
            done = ticket_changes.patch_ticket(session, config, ticket, changes, actor)
        except ChangeRefused as exc:
            raise ApiError(REFUSALS[exc.code], exc.code, str(exc), {exc.field: str(exc)}) \
                from exc
        ticket_id, number = ticket.id, ticket.number
    routing_events.publish(rt, config, reactions.run(rt.sessions, done.reactions))
    if done.changes:
        notify_change(rt, config, number, {"kind": "updated", "changes": done.changes})
    return ticket_answer(rt, ticket_id)


def ticket_answer(rt, ticket_id: int):
    """The Ticket as it is now, after the change and routing's reactions (200), with its
    ``ETag``."""
    with rt.read_sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        answer = jsonify(ticket_json(ticket, load_relations(session, [ticket])))
        answer.headers.update(collision.etag_of(session, ticket))
        return answer


def parse(body: dict) -> tuple[dict, str]:
    """``(changes, actor)`` from the body; a 400 names every bad or unknown field."""
    patch = TicketPatch.parse(body)
    changes = patch.model_dump(exclude_unset=True, include=set(CHANGEABLE))
    if not changes:
        raise bad_request({"body": "nothing to change: send status, priority, assignee "
                                   "or tags"})
    if "tags" in changes:
        changes["tags"] = list(dict.fromkeys(changes["tags"]))  # once each, in order
    return changes, patch.author or "api"


def _ticket(session, workspace_id: int, number: int) -> Ticket:
    ticket = None
    if number <= wire.MAX_TICKET_NUMBER:
        ticket = session.scalar(select(Ticket).where(Ticket.workspace_id == workspace_id,
                                                     Ticket.number == number))
    if ticket is None:
        raise ApiError(404, "not_found", f"ticket {number} not found")
    return ticket
