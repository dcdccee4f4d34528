"""The inbound edges in the OpenAPI document: contact form, chat, Telegram, inbound-parse.

They are public in the bearer-key sense: each authenticates its sender its own way (HMAC
signature, Telegram's secret token, basic auth, or nobody for the form), written in each
operation's description. Request bodies name the fields the edge reads; the edge checks more
than a schema can say (plausible email addresses, signatures, the provider's own format), so a
schema-valid body may still get a 400. The HTML pages answer their errors as HTML pages. The
payloads are documented in depth in docs/channels/.
"""
from __future__ import annotations

from gateway.api.openapi import STR, obj, operation, ref, reply

WORKSPACE = {"name": "workspace", "in": "path", "required": True,
             "description": "workspace slug", "schema": STR}
ACCEPTED = obj({"status": {"const": "accepted"}, "reference": STR})
HTML = {"type": "string"}
KNOWN = {400: "Invalid input (see `fields`)", 401: "Bad signature, token or credentials",
         403: "Refused (origin not allowed; Postmark: not a Postmark post)",
         404: "Unknown workspace (or channel not configured)",
         406: "Mailgun: not a Mailgun post, stale timestamp or token used before",
         409: "The same submission is being sent already", 413: "Body too large",
         429: "Rate limited; retry after `Retry-After`",
         503: "Queue unavailable; retry after `Retry-After`"}
FORM_FIELDS = {"name": STR, "email": STR, "subject": STR, "message": STR, "website": STR,
               "submission_id": STR}
FORM_JSON = {"type": "object", "properties": {**FORM_FIELDS, "attachments": {
    "type": "array", "items": {"type": "object", "properties": {
        "filename": STR, "content_type": STR, "data": {"type": "string",
                                                       "contentEncoding": "base64"}}}}}}
FORM_POST = {"type": "object", "properties": {**FORM_FIELDS, "attachments": {
    "type": "string", "format": "binary"}}}
CHAT_MESSAGE = {"type": "object", "required": ["conversation_id", "message_id", "visitor"],
                "properties": {
                    "conversation_id": STR, "message_id": STR, "text": STR, "sent_at": STR,
                    "visitor": {"type": "object", "required": ["id"], "properties": {
                        "id": STR, "name": STR, "email": STR}},
                    "attachments": {"type": "array", "items": {"type": "object", "properties": {
                        "url": STR, "content_base64": STR, "filename": STR,
                        "content_type": STR}}}}}
PROVIDER_FORM = {"type": "object", "additionalProperties": {"type": "string"}}


def _param(name: str, description: str, where: str = "path", required: bool = True,
           schema: dict | None = None) -> dict:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": schema or STR}


def _body(*media: tuple[str, dict]) -> dict:
    return {"required": True, "content": {kind: {"schema": schema} for kind, schema in media}}


def _edge(summary: str, description: str, ok: dict, parameters, fail=(400, 404, 503),
          request_body: dict | None = None, page: bool = False) -> dict:
    """An edge operation; ``page``: its errors are HTML pages (or JSON, when JSON was asked)."""
    op = operation(summary, ok, parameters, fail=(), public=True)
    op["description"] = description
    for status in fail:
        op["responses"][str(status)] = _error(KNOWN[status], page)
    if request_body:
        op["requestBody"] = request_body
    return op


def _error(description: str, page: bool) -> dict:
    answer = reply(description, ref("Error"))
    if page:
        answer["content"]["text/html"] = {"schema": HTML}
    return answer


def paths() -> dict:
    return {**form_paths(), **chat_paths(), **provider_paths()}


def form_paths() -> dict:
    ws = [WORKSPACE]
    page = {"200": reply("The page", HTML, "text/html")}
    posted = _body(("application/json", FORM_JSON), ("multipart/form-data", FORM_POST),
                   ("application/x-www-form-urlencoded", FORM_POST))
    return {
        "/contact/{workspace}": {
            "get": _edge("The contact form page", "Embeddable HTML form (no JavaScript).",
                         page, ws, (404,), page=True),
            "post": _edge("Submit the contact form",
                          "Form post (HTML answer: 303 to the receipt, or the form again with "
                          "its errors) or JSON (`Content-Type: application/json`, or `Accept` "
                          "preferring JSON: 202 with the reference, errors as JSON).",
                          {"202": reply("Accepted", ACCEPTED),
                           "303": reply("Redirect to the receipt page")}, ws,
                          (400, 403, 404, 409, 413, 429, 503), posted, page=True)},
        "/contact/{workspace}/submit.json": {"post": _edge(
            "Submit the contact form as JSON", "CORS: the workspace's allowed origins.",
            {"202": reply("Accepted", ACCEPTED)}, ws, (400, 403, 404, 409, 413, 429, 503),
            posted)},
        "/contact/{workspace}/thanks": {"get": _edge(
            "The receipt page", "Shows the reference the customer can quote.", page,
            ws + [_param("reference", "the receipt reference", "query", False,
                         {"type": "string", "pattern": "^[0-9A-F]{12}$"})], (404,), page=True)},
    }


def chat_paths() -> dict:
    ws = [WORKSPACE]
    session = _param("X-Chat-Session", "the session token of an earlier answer", "header",
                     False)
    signed = [_param("X-Ticketgate-Timestamp", "unix seconds", "header"),
              _param("X-Ticketgate-Signature", "hex HMAC-SHA256 of `timestamp.body`", "header")]
    widget_in = {"type": "object", "required": ["text"], "properties": {
        "text": STR, "name": STR, "email": STR}}
    widget_out = {"allOf": [ACCEPTED, obj({"message_id": STR, "sent_at": STR, "session": STR})]}
    history = obj({"conversation_id": STR, "messages": {"type": "array"}, "cursor": STR})
    since = _param("since", "`cursor` of an earlier answer", "query", False,
                   {"type": "string", "pattern": "^[0-9]{1,18}$"})
    return {
        "/hooks/chat/{workspace}": {"post": _edge(
            "Chat webhook", "HMAC-SHA256 of `timestamp.body` in `X-Ticketgate-Signature`, "
            "`X-Ticketgate-Timestamp` within the replay window.",
            {"202": reply("Accepted", ACCEPTED)}, ws + signed, (400, 401, 404, 413, 503),
            _body(("application/json", CHAT_MESSAGE)))},
        "/chat/{workspace}": {"get": _edge(
            "The chat widget page", "Embeddable; posts through the chat path, signed "
            "server-side.", {"200": reply("The page", HTML, "text/html")}, ws, (404,))},
        "/chat/{workspace}/messages": {
            "post": _edge("Send a widget message", "Session token in `X-Chat-Session`.",
                          {"202": reply("Accepted", widget_out)}, ws + [session],
                          (400, 401, 404, 413, 429, 503), _body(("application/json", widget_in))),
            "get": _edge("The visitor's conversation", "Session token in `X-Chat-Session`.",
                         {"200": reply("Messages", history)}, ws + [session, since],
                         (400, 401, 404))},
    }


def provider_paths() -> dict:
    secret = _param("X-Telegram-Bot-Api-Secret-Token", "the bot's secret token", "header")
    update = {"type": "object", "required": ["update_id"],
              "properties": {"update_id": {"type": "integer"}}}
    accepted = {"200": reply("Accepted (or a duplicate update, answered the same)",
                             {"type": "object"})}
    provider = {"type": "string", "enum": ["mailgun", "sendgrid", "postmark"]}
    posted = _body(("multipart/form-data", PROVIDER_FORM),
                   ("application/x-www-form-urlencoded", PROVIDER_FORM),
                   ("application/json", {"type": "object"}))
    fails = (400, 401, 403, 404, 406, 413, 503)
    return {
        "/hooks/telegram/{workspace}/{bot}": {"post": _edge(
            "Telegram webhook", "`X-Telegram-Bot-Api-Secret-Token` must match the bot's "
            "secret.", accepted, [WORKSPACE, _param("bot", "bot name in the workspace file"),
                                  secret], (400, 401, 404, 413, 503),
            _body(("application/json", update)))},
        "/hooks/inbound/{provider}/{workspace}": {"post": _edge(
            "Inbound mail from a provider", "`provider`: mailgun (signature), sendgrid or "
            "postmark (basic auth).", accepted,
            [_param("provider", "mailgun, sendgrid or postmark", schema=provider), WORKSPACE],
            fails, posted)},
        "/hooks/inbound/{provider}/{workspace}/mime": {"post": _edge(
            "Inbound raw MIME from a provider", "Mailgun routes to a URL ending in `mime` "
            "post the whole message in `body-mime`.", accepted,
            [_param("provider", "mailgun", schema=provider), WORKSPACE], fails, posted)},
    }
