"""The embeddable chat widget: ``GET /chat/<workspace>`` and its two JSON endpoints.

* ``POST /chat/<workspace>/messages`` ``{"text", "name", "email"}``: the page's messages. The
  server keeps the visitor's ids in a session token it signs (itsdangerous, keyed by the
  workspace's chat secret) that the page stores in localStorage and sends back in
  ``X-Chat-Session``. It builds the webhook's JSON, signs it with the workspace secret and
  passes it through the very same ``chat_edge.accept`` as the webhook. Rate-limited per IP.
* ``GET /chat/<workspace>/messages[?since=<cursor>]``: what the visitor may see of their own
  conversation (the one in the token, never one named by the caller): their messages once
  stored and the agents' answers, never notes (``gateway.edges.chat.history``). The page polls it
  while it is visible.
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

from flask import Blueprint, jsonify, render_template, request
from itsdangerous import BadSignature, URLSafeSerializer

from channels import chat
from gateway.edges.chat import history as chat_history
from gateway.edges import http
from gateway.edges.chat.intake import (CHANNEL, ChatSite, accept, json_body, request_body, sign, site_or_404)

bp = Blueprint("widget", __name__, template_folder="templates", static_folder="static/chat",
               static_url_path="/chat-assets")
SESSION_HEADER = "X-Chat-Session"
SESSION_SALT = "ticketgate-chat-widget"
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'self'; style-src 'self'; "
                                           "script-src 'self'; connect-src 'self'; "
                                           "img-src 'self' data:; base-uri 'none'; "
                                           "form-action 'self'"}


@bp.get("/chat/<workspace>")
def page(workspace: str):
    site = site_or_404(workspace)
    html = render_template("chat/widget.html", workspace=site.workspace,
                           title=site.settings.widget_title,
                           max_text=chat.MAX_TEXT_CHARS)
    return html, 200, {**PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8"}


@bp.post("/chat/<workspace>/messages")
def post_message(workspace: str):
    site = site_or_404(workspace)
    http.limit(CHANNEL, f"widget-ip:{request.remote_addr}", site.settings.widget_per_ip_per_hour)
    form = widget_form(request_body())
    visitor_id, conversation_id = session_ids(site, request.headers.get(SESSION_HEADER))
    payload = {"conversation_id": conversation_id, "message_id": uuid.uuid4().hex,
               "visitor": {"id": visitor_id, "name": form["name"], "email": form["email"]},
               "text": form["text"], "attachments": [],
               "sent_at": datetime.now(timezone.utc).isoformat()}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    envelope, message = accept(site, body, timestamp, sign(site.secret, timestamp, body),
                               source="widget")
    response = jsonify({"status": "accepted", "reference": http.reference(envelope),
                        "message_id": message.message_id, "sent_at": message.sent_at,
                        "session": session_token(site, visitor_id, conversation_id)})
    return response, 202


def widget_form(body: bytes) -> dict[str, str]:
    """The page's JSON: text, and optionally name and email (checked again by ``accept``)."""
    data = json_body(body)
    form, fields = {}, {}
    for name in ("text", "name", "email"):
        value = data.get(name, "")
        if not isinstance(value, str):
            fields[name] = "must be a string"
        form[name] = value if isinstance(value, str) else ""
    if not form["text"].strip() and "text" not in fields:
        fields["text"] = "write a message first"
    if fields:
        http.reject(400, "invalid_parameters", "the message is invalid", CHANNEL, fields)
    return form


@bp.get("/chat/<workspace>/messages")
def history(workspace: str):
    site = site_or_404(workspace)
    ids = read_session(site, request.headers.get(SESSION_HEADER))
    if ids is None:
        http.reject(401, "no_session", f"send the {SESSION_HEADER} token of a conversation",
                    CHANNEL)
    visitor_id, conversation_id = ids
    since = chat_history.parse_since(request.args.get("since"))
    page = chat_history.visible_page(site.workspace, conversation_id, visitor_id, since)
    response = jsonify({"conversation_id": conversation_id, "messages": page.messages,
                        "cursor": page.cursor})
    response.headers["Cache-Control"] = "no-store"
    return response


def _serializer(site: ChatSite) -> URLSafeSerializer:
    return URLSafeSerializer(site.secret, salt=f"{SESSION_SALT}:{site.workspace}")


def session_token(site: ChatSite, visitor_id: str, conversation_id: str) -> str:
    return _serializer(site).dumps({"v": visitor_id, "c": conversation_id})


def read_session(site: ChatSite, token: str | None) -> tuple[str, str] | None:
    """The (visitor id, conversation id) of a token this workspace signed, else None."""
    if not token:
        return None
    try:
        data = _serializer(site).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "vc"):
        return None
    return data["v"], data["c"]


def session_ids(site: ChatSite, token: str | None) -> tuple[str, str]:
    """The visitor's ids from their token; fresh ones for a new (or forged) session."""
    return read_session(site, token) or (f"w-{uuid.uuid4().hex}", f"w-{uuid.uuid4().hex}")
