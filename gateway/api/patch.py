"""``PATCH /api/v1/tickets/<number>`` (PRODUCT.md section 9): change status, priority,
assignee (an agent id, or null) and tags (the new list), optionally naming the ``author``
recorded in the audit trail (default ``api``).

Validation comes first: an unknown field is a 400 naming it, a bad value a 400 naming its
field, an empty patch a 400. The change itself is ``tickets.changes.patch_ticket``
(semantics there); an unknown agent is a 404 ``agent_not_found``, a full agent a 409
``agent_full``, both naming ``assignee``. A merged ticket forwards to its survivor, as replies
and notes do: the answer is the survivor (its ``number`` says so). After the commit routing
reacts (refill, re-route), the outbound webhook gets one ``{"kind": "updated", "changes":
{field: {old, new}}}`` event, and the answer is the Ticket as it is then (200).
"""
from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, current_app, g, jsonify
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import select

from config.routing import AGENT_ID
from gateway.api import auth, params as wire
from gateway.api.actions import _notify
from gateway.api.agents import ensure_seeded
from gateway.errors import ApiError, bad_request
from gateway.api.params import json_body
from tickets.wire import load_relations, ticket_json
from gateway.web import runtime_of
from routing.model import PRIORITIES_HIGHEST_FIRST
from store import repo
from store.models import STATUSES, Ticket
from tickets import reactions, routing_events, changes as ticket_changes
from tickets.changes import ChangeRefused

bp = Blueprint("api_patch", __name__)
MAX_TAGS = 50       # tags of one ticket
MAX_TAG = 50        # characters of one tag
MAX_AUTHOR = 100    # characters of the audit trail's actor
REFUSALS = {"agent_not_found": 404, "agent_full": 409}  # ChangeRefused code -> HTTP status
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG,
                                       pattern=r"^[^\x00-\x1f\x7f]+$")]


class TicketPatch(BaseModel):
    """The body; only the fields sent are changed (``assignee: null`` unassigns)."""
    model_config = ConfigDict(extra="forbid", strict=True)
    status: Literal[STATUSES] = "new"  # type: ignore[valid-type]
    priority: Literal[PRIORITIES_HIGHEST_FIRST] = "medium"  # type: ignore[valid-type]
    assignee: Annotated[str, Field(pattern=AGENT_ID)] | None = None
    tags: list[Tag] = Field([], max_length=MAX_TAGS)
    author: str = Field("", max_length=MAX_AUTHOR, pattern=r"^[^\x00-\x1f\x7f]*$")


@bp.before_request
def _authenticate() -> None:
    g.workspace = auth.authenticate()


@bp.patch("/tickets/<int:number>")
def patch_ticket(number: int):
    changes, actor = parse(json_body())
    rt = runtime_of(current_app)
    config = rt.config.workspace(g.workspace)
    workspace_id = ensure_seeded(current_app, g.workspace)
    with rt.sessions.begin() as session:
        ticket = repo.survivor(session, _ticket(session, workspace_id, number))
        try:
            done = ticket_changes.patch_ticket(session, config, ticket, changes, actor)
        except ChangeRefused as exc:
            raise ApiError(REFUSALS[exc.code], exc.code, str(exc), {exc.field: str(exc)}) \
                from exc
        ticket_id, number = ticket.id, ticket.number
    routing_events.publish(rt, config, reactions.run(rt.sessions, done.reactions))
    if done.changes:
        _notify(rt, config, number, {"kind": "updated", "changes": done.changes})
    return ticket_answer(rt, ticket_id)


def ticket_answer(rt, ticket_id: int):
    """The Ticket as it is now, after the change and routing's reactions (200)."""
    with rt.read_sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        return jsonify(ticket_json(ticket, load_relations(session, [ticket])))


def parse(body: dict) -> tuple[dict, str]:
    """``(changes, actor)`` from the body; a 400 names every bad or unknown field."""
    try:
        patch = TicketPatch.model_validate(body)
    except ValidationError as exc:
        raise bad_request({field_path(e["loc"]): e["msg"] for e in exc.errors()}) from None
    changes = patch.model_dump(exclude_unset=True, exclude={"author"})
    if not changes:
        raise bad_request({"body": "nothing to change: send status, priority, assignee "
                                   "or tags"})
    if "tags" in changes:
        changes["tags"] = list(dict.fromkeys(changes["tags"]))  # once each, in order
    return changes, patch.author or "api"


def field_path(loc: tuple) -> str:
    """``("tags", 2)`` -> ``tags[2]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text or "body"


def _ticket(session, workspace_id: int, number: int) -> Ticket:
    ticket = None
    if number <= wire.MAX_TICKET_NUMBER:
        ticket = session.scalar(select(Ticket).where(Ticket.workspace_id == workspace_id,
                                                     Ticket.number == number))
    if ticket is None:
        raise ApiError(404, "not_found", f"ticket {number} not found")
    return ticket
