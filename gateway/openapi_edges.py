"""The inbound edges in the OpenAPI document: contact form, chat, Telegram, inbound-parse.

They are public in the bearer-key sense: each authenticates its sender its own way (HMAC
signature, Telegram's secret token, basic auth, or nobody for the form), written in each
operation's description. The pages and webhooks are documented in depth in docs/channels/.
"""
from __future__ import annotations

from gateway.openapi import STR, obj, operation, ref, reply

WORKSPACE = {"name": "workspace", "in": "path", "required": True,
             "description": "workspace slug", "schema": STR}
ACCEPTED = obj({"status": {"const": "accepted"}, "reference": STR})
HTML = {"type": "string"}


def _param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": STR}


def _edge(summary: str, description: str, ok: dict, parameters, fail=(400, 404, 503)) -> dict:
    op = operation(summary, ok, parameters, fail=(), public=True)
    op["description"] = description
    known = {400: "Invalid input (see `fields`)", 401: "Bad signature, token or credentials",
             404: "Unknown workspace (or channel not configured)",
             413: "Body too large", 429: "Rate limited; retry after `Retry-After`",
             503: "Queue unavailable; retry after `Retry-After`"}
    op["responses"].update({str(s): reply(known[s], ref("Error")) for s in fail})
    return op


def paths() -> dict:
    ws = [WORKSPACE]
    signed = (400, 401, 404, 413, 503)
    return {
        "/contact/{workspace}": {
            "get": _edge("The contact form page", "Embeddable HTML form (no JavaScript).",
                         {"200": reply("The page", HTML, "text/html")}, ws, (404,)),
            "post": _edge("Submit the contact form",
                          "Form post (HTML answer, 303 to the receipt) or JSON "
                          "(`Content-Type: application/json`, 202 with the reference).",
                          {"202": reply("Accepted", ACCEPTED),
                           "303": reply("Redirect to the receipt page")}, ws,
                          (400, 404, 413, 429, 503))},
        "/contact/{workspace}/submit.json": {"post": _edge(
            "Submit the contact form as JSON", "CORS: the workspace's allowed origins.",
            {"202": reply("Accepted", ACCEPTED)}, ws, (400, 404, 413, 429, 503))},
        "/contact/{workspace}/thanks": {"get": _edge(
            "The receipt page", "Shows the reference the customer can quote.",
            {"200": reply("The page", HTML, "text/html")}, ws, (404,))},
        "/hooks/chat/{workspace}": {"post": _edge(
            "Chat webhook", "HMAC-SHA256 of `timestamp.body` in `X-Ticketgate-Signature`, "
            "`X-Ticketgate-Timestamp` within the replay window.",
            {"202": reply("Accepted", ACCEPTED)}, ws, signed)},
        "/chat/{workspace}": {"get": _edge(
            "The chat widget page", "Embeddable; posts through the chat path, signed "
            "server-side.", {"200": reply("The page", HTML, "text/html")}, ws, (404,))},
        "/chat/{workspace}/messages": {
            "post": _edge("Send a widget message", "Session token in `X-Chat-Session`.",
                          {"202": reply("Accepted", ACCEPTED)}, ws,
                          (400, 401, 404, 429, 503)),
            "get": _edge("The visitor's conversation", "Session token in `X-Chat-Session`.",
                         {"200": reply("Messages", {"type": "object"})}, ws, (401, 404))},
        "/hooks/telegram/{workspace}/{bot}": {"post": _edge(
            "Telegram webhook", "`X-Telegram-Bot-Api-Secret-Token` must match the bot's "
            "secret.", {"200": reply("Accepted", {"type": "object"})},
            ws + [_param("bot", "bot name in the workspace file")], (400, 401, 404, 413, 503))},
        "/hooks/inbound/{provider}/{workspace}": {"post": _edge(
            "Inbound mail from a provider", "`provider`: mailgun (signature), sendgrid or "
            "postmark (basic auth).", {"200": reply("Accepted", {"type": "object"})},
            [_param("provider", "mailgun, sendgrid or postmark"), WORKSPACE], signed)},
        "/hooks/inbound/{provider}/{workspace}/mime": {"post": _edge(
            "Inbound raw MIME from a provider", "Mailgun routes to a URL ending in `mime` "
            "post the whole message in `body-mime`.",
            {"200": reply("Accepted", {"type": "object"})},
            [_param("provider", "mailgun"), WORKSPACE], signed)},
    }
