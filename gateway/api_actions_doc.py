"""OpenAPI paths of the agent actions (``gateway.api_actions``), for ``gateway.openapi.paths``:
``**api_actions_doc.paths()``."""
from __future__ import annotations

from gateway.openapi import PREFIX, STR, obj, operation, path, ref, reply

ATTACHMENT_IN = obj({"filename": STR, "content_type": STR,
                     "content": {"type": "string", "contentEncoding": "base64"}})


def body(properties: dict, required: tuple[str, ...]) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _with_body(op: dict, request_body: dict) -> dict:
    return {**op, "requestBody": request_body}


def paths() -> dict:
    number = path("number", "ticket number within the workspace")
    message = {"allOf": [ref("Message"), {"type": "object", "properties": {
        "author": STR, "delivery": {"type": ["object", "null"], "properties": {
            "status": {"enum": ["queued", "sent", "failed", "outbox"]}, "detail": STR,
            "attempts": {"type": "integer"}, "delivered_at": {"type": ["string", "null"]}}}}}]}
    return {
        f"{PREFIX}/tickets/{{number}}/replies": {"post": _with_body(operation(
            "Reply through the ticket's channel: stored at once, delivered by the outbound "
            "worker; the ticket becomes answered",
            {"201": reply("The stored reply with its delivery state", message)}, [number],
            (400, 401, 404, 409, 503)), body(
            {"text": STR, "html": STR, "author": STR,
             "attachments": {"type": "array", "items": ATTACHMENT_IN}}, ("text",)))},
        f"{PREFIX}/tickets/{{number}}/notes": {"post": _with_body(operation(
            "Add an internal note (never sent)", {"201": reply("The note", message)}, [number],
            (400, 401, 404, 503)), body({"text": STR, "author": STR}, ("text",)))},
        f"{PREFIX}/tickets/{{number}}/merge": {"post": _with_body(operation(
            "Merge the ticket into another (messages, thread keys, participants move)",
            {"200": reply("Merged", obj({"number": {"type": "integer"},
                                          "merged_into": {"type": "integer"},
                                          "status": STR}))}, [number],
            (400, 401, 404, 409, 503)), body({"into": {"type": "integer"}}, ("into",)))},
    }
