"""OpenAPI paths and schema of the agents (``gateway.api.agents``), the offers
(``gateway.api.offers``) and the ticket PATCH (``gateway.api.patch``), for ``gateway.api.openapi``:
``agent_schema()`` is the Agent component, ``paths()`` the agent and offer paths,
``ticket_patch()`` the ``patch`` operation of ``/api/v1/tickets/{number}``."""
from __future__ import annotations

from config.routing import AGENT_ID
from gateway.api.actions_doc import AUTHOR, body
from gateway.api.patch import MAX_TAG, MAX_TAGS
from gateway.api.openapi import (ONE_LINE, PREFIX, SPACE, STR, TIME, obj, operation, path, ref, reply)
from routing.model import PRIORITIES_HIGHEST_FIRST
from routing.rules_schema import CHANNELS
from store.models import STATUSES
from tickets import agents

NAME = "^[^\\x00-\\x1f\\x7f]{1,%d}$" % agents.MAX_NAME  # a skill or department name
TAG = {"type": "string", "minLength": 1, "maxLength": MAX_TAG,
       "pattern": f"^[^\\x00-\\x1f\\x7f]*[^\\x00-\\x1f\\x7f{SPACE}][^\\x00-\\x1f\\x7f]*$"}
# tickets.agents.EMAIL with \s spelled out: pydantic's \s (Unicode) has \x85, JSON Schema's not
EMAIL = "^$|^[^@\\s\\x00-\\x1f\\x7f-\\x9f]+@[^@\\s\\x00-\\x1f\\x7f-\\x9f]+$"
TAGS = {"type": "array", "maxItems": MAX_TAGS, "items": TAG}

LEVELS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1,
                                                     "maximum": 5}}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
PRESENCE = {"enum": ["online", "away", "offline"]}


def agent_schema() -> dict:
    return obj({
        "id": STR, "name": STR, "email": STR, "skills": LEVELS,
        "capacity": {**COUNTS, "description": "concurrent tickets per channel"},
        "status": PRESENCE,
        "load": {**COUNTS, "description": "open assignments per channel (read-only)"},
        "departments": {"type": "array", "items": STR},
        "total": {"type": "number", "minimum": 0,
                  "description": "cap in weighted units; 0: the channel capacities only"},
        "calendar": {"type": "string", "description": "business-hours calendar of the "
                     "workspace's routing block; empty: always available"},
        "last_assigned_at": TIME})


def agent_id() -> dict:
    return {"name": "id", "in": "path", "required": True, "description": "agent id",
            "schema": {"type": "string", "pattern": AGENT_ID}}


def agent_in() -> dict:
    """The PUT body, with the limits of ``tickets.agents.AgentIn``."""
    return body({
        "name": {"type": "string", "maxLength": 300, "pattern": ONE_LINE},
        "email": {"type": "string", "maxLength": 320, "pattern": EMAIL},
        "skills": {**LEVELS, "maxProperties": agents.MAX_SKILLS,
                   "propertyNames": {"pattern": NAME}},
        "capacity": {"type": "object", "propertyNames": {"enum": list(CHANNELS)},
                     "additionalProperties": {"type": "integer", "minimum": 0,
                                              "maximum": agents.MAX_CAPACITY}},
        "status": PRESENCE,
        "departments": {"type": "array", "maxItems": agents.MAX_DEPARTMENTS,
                        "items": {"type": "string", "pattern": NAME}},
        "total": {"type": "number", "minimum": 0, "maximum": agents.MAX_TOTAL},
        "calendar": {"type": "string", "maxLength": 63, "description": "a calendar of the "
                     "workspace's routing block (another name is a 400), or empty"}}, ())


def paths() -> dict:
    return {
        f"{PREFIX}/agents": {"get": operation(
            "The workspace's agents with their load",
            {"200": reply("Every agent", obj({"agents": {"type": "array",
                                                         "items": ref("Agent")}}))})},
        f"{PREFIX}/agents/{{id}}": {
            "get": operation("One agent", {"200": reply("The agent", ref("Agent"))},
                             [agent_id()], (401, 404, 503)),
            "put": {**operation(
                "Create or replace an agent (unset fields take their defaults: status "
                "offline, no skills, no capacity); routing reacts at once",
                {"200": reply("Replaced", ref("Agent")), "201": reply("Created", ref("Agent"))},
                [agent_id()], (400, 401, 503)), "requestBody": agent_in()}},
        **offer_paths()}


def offer_paths() -> dict:
    offer = obj({"number": {"type": "integer"}, "channel": STR, "subject": STR,
                 "priority": {"enum": list(PRIORITIES_HIGHEST_FIRST)}, "offered_at": TIME,
                 "expires_at": TIME})
    number = path("number", "ticket number within the workspace")
    answer = body({"agent": {"type": "string", "pattern": AGENT_ID,
                             "description": "the agent the ticket is offered to"}}, ("agent",))
    return {
        f"{PREFIX}/agents/{{id}}/offers": {"get": operation(
            "The agent's open offers (offer-and-accept channels), oldest first",
            {"200": reply("Open offers", obj({"offers": {"type": "array", "items": offer}}))},
            [agent_id()], (401, 404, 503))},
        f"{PREFIX}/tickets/{{number}}/accept": {"post": {**operation(
            "Accept an offer: the agent becomes the assignee",
            {"200": reply("The ticket", ref("Ticket"))}, [number], (400, 401, 404, 409, 503)),
            "requestBody": answer}},
        f"{PREFIX}/tickets/{{number}}/decline": {"post": {**operation(
            "Decline an offer: the ticket is routed again, never to this agent",
            {"200": reply("The ticket after routing", ref("Ticket"))}, [number],
            (400, 401, 404, 409, 503)), "requestBody": answer}}}


def ticket_patch() -> dict:
    fields = ("status", "priority", "assignee", "tags")
    changes = body({"status": {"enum": list(STATUSES)},
                    "priority": {"enum": list(PRIORITIES_HIGHEST_FIRST)},
                    "assignee": {"type": ["string", "null"], "pattern": AGENT_ID,
                                 "description": "agent id; null: back to routing"},
                    "tags": {**TAGS, "description": "the new list (replaces)"},
                    "author": AUTHOR}, (),
                   anyOf=[{"required": [name]} for name in fields])
    return {"patch": {**operation(
        "Change status, priority, assignee or tags; each change is audited, routing and the "
        "SLA clock react, a merged ticket forwards to its survivor",
        {"200": reply("The ticket after the change", ref("Ticket"))},
        [path("number", "ticket number within the workspace")], (400, 401, 404, 409, 503)),
        "requestBody": changes}}
