"""OpenAPI paths of the agent actions (``gateway.api.actions``), for ``gateway.api.openapi.paths``:
``**api_actions_doc.paths()``. The request schemas state the limits the views enforce, so a
request valid by the document is never refused as invalid (schemathesis checks it)."""
from __future__ import annotations

from gateway.api import actions
from gateway.api.openapi import (NO_NUL, NOT_BLANK, ONE_LINE, PREFIX, SPACE, obj, operation, path, ref, reply)
from gateway.api.params import MAX_TICKET_NUMBER

BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
ATTACHMENT_IN = {
    "type": "object", "additionalProperties": False, "required": ["filename", "content"],
    "properties": {
        "filename": {"type": "string", "maxLength": actions.MAX_FILENAME,
                     "pattern": f"^[^\\x00-\\x1f\\x7f/]*[^\\x00-\\x1f\\x7f/{SPACE}]"
                                "[^\\x00-\\x1f\\x7f/]*$",
                     "description": "one line: no '/', no control characters (CR, LF, NUL)"},
        "content_type": {"type": "string", "pattern": actions.CONTENT_TYPE.pattern,
                         "default": "application/octet-stream",
                         "description": "type/subtype without parameters"},
        "content": {"type": "string", "contentEncoding": "base64", "pattern": BASE64,
                    "maxLength": (actions.MAX_ATTACHMENT_BYTES + 2) // 3 * 4}}}
TEXT = {"type": "string", "minLength": 1, "maxLength": actions.MAX_TEXT, "pattern": NOT_BLANK}
AUTHOR = {"type": "string", "maxLength": actions.MAX_AUTHOR, "pattern": ONE_LINE,
          "description": "the agent, as recorded in the audit trail"}
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "description": "a retried request with the same key returns the first "
                                  "message", "schema": {"type": "string", "pattern": ONE_LINE,
                                                        "maxLength": actions.MAX_IDEMPOTENCY_KEY}}


def body(properties: dict, required: tuple[str, ...], **rules) -> dict:
    """A JSON request body: an object of ``properties`` (no others), plus JSON Schema ``rules``."""
    schema = {"type": "object", "properties": properties, "required": list(required),
              "additionalProperties": False, **rules}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _with_body(op: dict, request_body: dict) -> dict:
    return {**op, "requestBody": request_body}


def paths() -> dict:
    number = path("number", "ticket number within the workspace")
    message = {"allOf": [ref("Message"), {"type": "object", "properties": {
        "author": {"type": ["string", "null"]}, "delivery": {
            "type": ["object", "null"], "properties": {
                "status": {"enum": ["queued", "sent", "failed", "outbox"]},
                "detail": {"type": "string"}, "attempts": {"type": "integer"},
                "delivered_at": {"type": ["string", "null"]}}}}}]}
    html = {"type": "string", "maxLength": actions.MAX_TEXT * 4, "pattern": NO_NUL}
    attachments = {"type": "array", "maxItems": actions.MAX_ATTACHMENTS, "items": ATTACHMENT_IN}
    into = {"type": "integer", "minimum": 1, "maximum": MAX_TICKET_NUMBER}
    return {
        f"{PREFIX}/tickets/{{number}}/replies": {"post": _with_body(operation(
            "Reply through the ticket's channel: stored at once, delivered by the outbound "
            "worker; the ticket becomes answered",
            {"201": reply("The stored reply with its delivery state", message)},
            [number, IDEMPOTENCY_KEY], (400, 401, 404, 409, 503)), body(
            {"text": TEXT, "html": html, "author": AUTHOR, "attachments": attachments},
            ("text",)))},
        f"{PREFIX}/tickets/{{number}}/notes": {"post": _with_body(operation(
            "Add an internal note (never sent)", {"201": reply("The note", message)},
            [number, IDEMPOTENCY_KEY], (400, 401, 404, 503)),
            body({"text": TEXT, "author": AUTHOR}, ("text",)))},
        f"{PREFIX}/tickets/{{number}}/merge": {"post": _with_body(operation(
            "Merge the ticket into another (messages, thread keys, participants move)",
            {"200": reply("Merged", obj({"number": {"type": "integer"},
                                          "merged_into": {"type": "integer"},
                                          "status": {"type": "string"}}))}, [number],
            (400, 401, 404, 409, 503)), body({"into": into, "author": AUTHOR}, ("into",)))},
    }
