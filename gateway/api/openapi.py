"""The OpenAPI 3.1 description of the REST API, served at ``GET /api/v1/openapi.json``.

Built as a plain dict from small helpers; the schemas mirror ``tickets.wire`` field for
field. Paths are written in full (``/api/v1/...``, ``/healthz``) exactly as PRODUCT.md names them.
"""
from __future__ import annotations

from gateway.api.params import (CHANNEL_ALIASES, DEFAULT_LIMIT, MAX_LIMIT, MAX_TEXT_PARAM, TICKET_CHANNELS)
from routing.model import PRIORITIES_HIGHEST_FIRST
from store.models import STATUSES

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"  # version of this document's contract, not of the software
PREFIX = "/api/v1"
TIME = {"type": ["string", "null"], "format": "date-time"}
STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NULL_STR, NULL_INT = {"type": ["string", "null"]}, {"type": ["integer", "null"]}
STR_LIST = {"type": "array", "items": STR}
# Patterns of what the server accepts (JSON Schema regular expressions).
NO_NUL = "^[^\\x00]*$"                         # PostgreSQL stores no NUL
ONE_LINE = "^[^\\x00-\\x1f\\x7f]*$"            # no control characters (CR, LF, NUL, ...)
# Whitespace as Python's str.strip() sees it (JSON Schema's \s lacks \x1c-\x1f and \x85).
SPACE = "\\s\\x1c-\\x1f\\x85"
NOT_BLANK = f"^[^\\x00]*[^\\x00{SPACE}][^\\x00]*$"   # some text besides whitespace, no NUL
TEXT_QUERY = {"type": "string", "maxLength": MAX_TEXT_PARAM, "pattern": NO_NUL}
STATUS_LIST = f"^(?:{'|'.join(STATUSES)})(?:,(?:{'|'.join(STATUSES)}))*$"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, nullable: bool = False) -> dict:
    """An object schema in which every listed property is required."""
    return {"type": ["object", "null"] if nullable else "object", "properties": properties,
            "required": list(properties)}


def query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or TEXT_QUERY}


def path(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1}}


def reply(description: str, schema: dict | None = None, media: str = "application/json") -> dict:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {media: {"schema": schema}}}


def errors(*statuses: int) -> dict:
    known = {400: "Invalid parameters (see `fields`)", 401: "Missing or invalid API key",
             404: "Not found (or another workspace's)", 409: "Conflicts with the current state",
             503: "Database or Redis unavailable; retry after `Retry-After` seconds"}
    return {str(s): reply(known[s], ref("Error")) for s in statuses}


def operation(summary: str, ok: dict, parameters=(), fail=(401, 503), public=False) -> dict:
    op = {"summary": summary, "parameters": list(parameters), "responses": {**ok, **errors(*fail)}}
    if public:
        op["security"] = []
    return op


LIMIT = query("limit", f"page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
              {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})
CURSOR = query("cursor", "`next_cursor` of the previous page, unchanged (any other value: 400)",
               {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"})
TICKET_FILTERS = (
    query("status", "comma-separated statuses (default: all but deleted)",
          {"type": "string", "pattern": STATUS_LIST}),
    query("channel", "the channel a ticket reports (`messenger` is accepted for `telegram`)",
          {"enum": [*TICKET_CHANNELS, *CHANNEL_ALIASES]}),
    query("assignee", "agent id"),
    query("customer", "email address, customer id, or kind:value of another identity",
          {**TEXT_QUERY, "pattern": "^(?:[0-9]{0,18}|[^\\x00]*[^0-9\\x00][^\\x00]*)$"}),
    query("q", "case-insensitive substring of the subject or of any message text"))


def schemas() -> dict:
    return {"Ticket": ticket_schema(), "Message": message_schema(), "Entry": entry_schema(),
            "Agent": routing_doc().agent_schema(), "Customer": customers_doc().customer_schema(),
            "Error": obj({"error": obj({"code": STR, "message": STR, "fields": {
                "type": "object", "additionalProperties": STR}})}),
            "AuditEvent": obj({"id": INT, "kind": {**STR, "description": "status, priority, "
                               "assignee, tags, offer, sla_breach, merged_into, merged_from, "
                               "follow_up, message_edited, rules, ..."},
                               "old": STR, "new": STR, "actor": {**STR, "description":
                               "the agent or API key, `router`, `sweep` or `system`"},
                               "at": TIME}),
            "TicketWithMessages": {"allOf": [ref("Ticket"), obj({
                "messages": {"type": "array", "items": ref("Message")}})]}}


def ticket_schema() -> dict:
    identity = obj({"kind": STR, "value": STR, "bouncing": BOOL, "verified": {
        **BOOL, "description": "false: an unverified contact (e.g. typed into the chat widget)"}})
    sla = obj({"first_response_due": TIME, "next_response_due": TIME, "resolution_due": TIME,
               "breached": BOOL})
    return obj({
        "number": INT, "subject": STR, "status": {"enum": list(STATUSES)},
        "priority": {"enum": list(PRIORITIES_HIGHEST_FIRST)}, "channel": STR,
        "customer": obj({"id": INT, "name": STR, "email": NULL_STR,
                         "identities": {"type": "array", "items": identity}}, nullable=True),
        "message_count": INT, "assignee": NULL_STR,
        "skills": {"type": "object", "additionalProperties": INT}, "tags": STR_LIST,
        "language": NULL_STR, "created_at": TIME, "updated_at": TIME, "sla": sla,
        "routing": obj({"reason": {"type": ["object", "null"]}}),
        "merged_into": NULL_INT, "follow_up_of": NULL_INT,
        "follow_ups": {"type": "array", "items": INT,
                       "description": "numbers of the tickets that follow this one up"}})


def message_schema() -> dict:
    attachment = obj({"filename": STR, "content_type": STR, "size": INT, "sha256": STR})
    return obj({
        "id": INT, "direction": {"enum": ["in", "out", "note"]}, "channel": STR,
        "native_id": STR, "from": obj({"name": STR, "address": STR}), "to": STR_LIST,
        "cc": STR_LIST, "subject": STR, "text": STR, "reply_text": STR, "html": STR,
        "attachments": {"type": "array", "items": attachment},
        "classification": {"type": "string", "description": "normal, auto_reply, "
                           "out_of_office, bounce, bulk, own_loop, spam, ..."},
        "classification_detail": {"type": "object"}, "created_at": TIME,
        "author": {"type": ["string", "null"], "description": "the agent of an out/note message"},
        "sender_verified": {**BOOL, "description": "false: threaded by a hint that proves "
                            "nothing of the sender, who is no participant and never gets replies"},
        "delivery": {"type": ["object", "null"], "description": "out messages only", "properties": {
            "status": {"enum": ["queued", "sent", "failed", "outbox"]}, "detail": STR,
            "attempts": INT, "delivered_at": TIME}}})


def entry_schema() -> dict:
    return obj({"id": INT, "channel": STR, "native_id": STR, "reason": STR, "detail": STR,
                "received_at": TIME, "size": INT, "replayed_at": TIME})


def listing(key: str, item: str) -> dict:
    return obj({key: {"type": "array", "items": ref(item)}, "next_cursor": NULL_STR})


def paths() -> dict:
    number = path("number", "ticket number within the workspace")
    return {
        f"{PREFIX}/tickets": {"get": operation(
            "List tickets, newest first", {"200": reply("A page", listing("tickets", "Ticket"))},
            TICKET_FILTERS + (LIMIT, CURSOR), (400, 401, 503))},
        f"{PREFIX}/tickets/{{number}}": {"get": operation(
            "A ticket with its messages, oldest first",
            {"200": reply("The ticket", ref("TicketWithMessages"))}, [number], (401, 404, 503)),
            **routing_doc().ticket_patch()},
        f"{PREFIX}/tickets/{{number}}/events": {"get": operation(
            "The ticket's audit trail (every status, assignee, priority, tag, routing and SLA "
            "change), oldest first", {"200": reply("A page", listing("events", "AuditEvent"))},
            (number, LIMIT, CURSOR), (400, 401, 404, 503))},
        f"{PREFIX}/quarantine": {"get": operation(
            "List quarantine entries, newest first",
            {"200": reply("A page", listing("entries", "Entry"))}, (LIMIT, CURSOR),
            (400, 401, 503))},
        f"{PREFIX}/quarantine/{{id}}/replay": {"post": operation(
            "Put the entry's envelope back on its channel queue",
            {"202": reply("Queued; the entry with `replayed_at`", ref("Entry"))},
            [path("id", "entry id")], (401, 404, 409, 503))},
        f"{PREFIX}/openapi.json": {"get": operation(
            "This document", {"200": reply("OpenAPI 3.1", {"type": "object"})}, fail=(),
            public=True)},
        **actions_paths(), **routing_doc().paths(), **customers_doc().paths(),
        **health_paths(), **edge_paths()}


def routing_doc():
    from gateway.api import routing_doc as api_routing_doc  # it builds on the helpers above
    return api_routing_doc


def customers_doc():
    from gateway.api import customers_doc as api_customers_doc  # it builds on the helpers above
    return api_customers_doc


def actions_paths() -> dict:
    from gateway.api import actions_doc  # it builds on the helpers above
    return actions_doc.paths()


def edge_paths() -> dict:
    from gateway.api import openapi_edges  # it builds on the helpers above
    return openapi_edges.paths()


def health_paths() -> dict:
    text = {"type": "string"}
    return {
        "/healthz": {"get": operation("The process is alive", {"200": reply("Alive", {
            "type": "object"})}, fail=(), public=True)},
        "/readyz": {"get": operation("Redis and the store answer", {
            "200": reply("Ready", {"type": "object"}),
            "503": reply("Not ready; says which check failed", {"type": "object"})},
            fail=(), public=True)},
        "/metrics": {"get": operation("Prometheus metrics", {"200": reply(
            "Text exposition format", text, "text/plain")}, fail=(), public=True)}}


def document() -> dict:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "ticketgate REST API", "version": API_VERSION,
                 "description": "Tickets, agent actions, agents and offers, customers and "
                                "quarantine of one workspace (the "
                                "API key's), and the inbound edges (each with its own "
                                "authentication)."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {"schemas": schemas(), "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer", "description": "the workspace's API key"}}},
    }
