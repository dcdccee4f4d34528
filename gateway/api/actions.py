"""Agent actions of the REST API (PRODUCT.md section 9), mounted at /api/v1:
``POST /tickets/<n>/replies`` {text, html?, attachments?, author?},
``POST /tickets/<n>/notes`` {text, author?}, ``POST /tickets/<n>/merge`` {into}.

Same key and isolation rules as ``gateway.api.tickets``: a ticket of another workspace is a 404. A reply
is stored at once (201, ``delivery.status`` queued) and its delivery enqueued on the
``outbound`` queue after the commit; when Redis is down at that moment the message stays queued
and the outbound sweep enqueues it later (nothing is lost). An ``Idempotency-Key`` header makes
a retried request return the message the first one stored.
"""
from __future__ import annotations

import base64
import binascii
import logging
import re

from flask import Blueprint, current_app, g, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy import select

from config import signing
from gateway.api import auth, params as wire
from gateway.errors import ApiError, bad_request
from gateway.api.params import json_body
from tickets.wire import delivery_json, message_json
from gateway.web import runtime_of
from store import repo
from store.models import Message, Ticket
from tickets import actions as agent_actions, assign, routing_events
from tickets.actions import ActionRefused, Draft
from queues import outbound as queue

log = logging.getLogger(__name__)
bp = Blueprint("api_actions", __name__)
MAX_TEXT = 100_000                    # characters of a reply or note
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_AUTHOR = 100
MAX_IDEMPOTENCY_KEY = 200
MAX_FILENAME = 255
# Attachment names and types become MIME headers of the outbound mail: one line, no controls.
# Always ``fullmatch``: ``$`` would also match before a final newline.
FILENAME = re.compile(r"^[^\x00-\x1f\x7f/]{1,%d}$" % MAX_FILENAME)
CONTENT_TYPE = re.compile(r"^[\w.+-]{1,50}/[\w.+-]{1,50}$", re.ASCII)
ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f]*$")  # author and Idempotency-Key: printable
AUTHOR_RULE = f"a string of at most {MAX_AUTHOR} characters, no control characters"


@bp.before_request
def _authenticate() -> None:
    g.workspace = auth.authenticate()


@bp.post("/tickets/<int:number>/replies")
def post_reply(number: int):
    body = json_body()
    draft = _draft(body, allow_html=True)
    rt = runtime_of(current_app)
    config = rt.config.workspace(g.workspace)
    with rt.sessions.begin() as session:
        workspace, ticket = _ticket(session, number)
        draft.attachments = _attachments(body.get("attachments"), rt.blobs)
        message = _refusable(agent_actions.reply, session, workspace, config,
                             repo.survivor(session, ticket), draft, signing.default_key())
        answer, message_id, survivor = message_body(message), message.id, message.ticket_id
        number = session.get(Ticket, survivor).number
    if answer["delivery"]["status"] == "queued":
        _enqueue_delivery(rt, message_id)
    _notify(rt, config, number, {"kind": "reply", "message_id": message_id})
    return jsonify(answer), 201


@bp.post("/tickets/<int:number>/notes")
def post_note(number: int):
    draft = _draft(json_body(), allow_html=False)
    rt = runtime_of(current_app)
    with rt.sessions.begin() as session:
        workspace, ticket = _ticket(session, number)
        target = repo.survivor(session, ticket)
        message = agent_actions.note(session, workspace, target, draft)
        answer, number = message_body(message), target.number
    _notify(rt, rt.config.workspace(g.workspace), number,
            {"kind": "note", "message_id": answer["id"]})
    return jsonify(answer), 201


@bp.post("/tickets/<int:number>/merge")
def post_merge(number: int):
    body = json_body()
    into = body.get("into")
    if (isinstance(into, bool) or not isinstance(into, int)
            or not 0 < into <= wire.MAX_TICKET_NUMBER):
        raise bad_request({"into": "must be the number of a ticket of this workspace"})
    author = _author(body) or "api"
    rt = runtime_of(current_app)
    config = rt.config.workspace(g.workspace)
    with rt.sessions.begin() as session:
        workspace, source = _ticket(session, number)
        _, target = _ticket(session, into)
        survivor = _refusable(agent_actions.merge, session, workspace, source, target, author)
        freed = assign.release(session, config, source, "merged")
        answer = {"number": source.number, "merged_into": survivor.number,
                  "status": source.status}
    if freed:
        with rt.sessions.begin() as session:
            decisions = assign.refill(session, config, workspace.id, freed)
        routing_events.publish(rt, config, decisions)
    _notify(rt, rt.config.workspace(g.workspace), survivor.number,
            {"kind": "merged", "from": source.number})
    return jsonify(answer), 200


# --- helpers -----------------------------------------------------------------------------------

def message_body(message: Message) -> dict:
    """The Message of the API plus its delivery state."""
    return {**message_json(message), "author": message.author,
            "delivery": delivery_json(message)}


def _enqueue_delivery(rt, message_id: int) -> None:
    try:
        queue.enqueue_delivery(rt.redis, message_id)
    except RedisError as exc:  # stored and queued: the outbound sweep enqueues it later
        log.warning("delivery of message %s not enqueued (%s); the sweep will", message_id, exc)


def _notify(rt, config, number: int, change: dict) -> None:
    try:
        queue.notify_webhook(rt.redis, config, number, change)
    except RedisError as exc:
        log.warning("webhook event for ticket %s not enqueued: %s", number, exc)


def _refusable(action, *args):
    try:
        return action(*args)
    except ActionRefused as exc:
        raise ApiError(409, exc.code, str(exc)) from exc


def _ticket(session, number: int):
    workspace = repo.workspace_row(session, g.workspace)
    ticket = None
    if number <= wire.MAX_TICKET_NUMBER:
        ticket = session.scalar(select(Ticket).where(Ticket.workspace_id == workspace.id,
                                                     Ticket.number == number))
    if ticket is None:
        raise ApiError(404, "not_found", f"ticket {number} not found")
    return workspace, ticket


def _draft(body: dict, allow_html: bool) -> Draft:
    errors: dict[str, str] = {}
    text, html = body.get("text"), body.get("html", "")
    if not isinstance(text, str) or not text.strip():
        errors["text"] = "required: a non-empty string"
    elif len(text) > MAX_TEXT:
        errors["text"] = f"at most {MAX_TEXT} characters"
    if not allow_html and "html" in body:
        errors["html"] = "not accepted here"
    elif not isinstance(html, str) or len(html) > MAX_TEXT * 4:
        errors["html"] = f"a string of at most {MAX_TEXT * 4} characters"
    author = body.get("author", "")
    if not _is_author(author):
        errors["author"] = AUTHOR_RULE
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY or not ONE_LINE.fullmatch(key):
        errors["Idempotency-Key"] = f"at most {MAX_IDEMPOTENCY_KEY} characters, no control " \
                                    "characters"
    if errors:
        raise bad_request(errors)
    return Draft(text=text, html=html or "", author=author, idempotency_key=key)


def _author(body: dict) -> str:
    author = body.get("author", "")
    if not _is_author(author):
        raise bad_request({"author": AUTHOR_RULE})
    return author


def _is_author(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_AUTHOR and bool(ONE_LINE.fullmatch(value))


def _attachments(value, blobs) -> list[dict]:
    """``[{filename, content_type, content (base64)}]`` -> stored blobs, by reference."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise bad_request({"attachments": f"a list of at most {MAX_ATTACHMENTS} objects"})
    decoded = [_attachment(i, item) for i, item in enumerate(value)]
    return [{"filename": name, "content_type": kind, "size": len(data),
             "sha256": blobs.put(data)} for name, kind, data in decoded]


def _attachment(index: int, item) -> tuple[str, str, bytes]:
    where = f"attachments[{index}]"
    if not isinstance(item, dict):
        raise bad_request({where: "must be an object {filename, content_type, content}"})
    name, content = item.get("filename"), item.get("content")
    kind = item.get("content_type", "application/octet-stream")
    if not isinstance(name, str) or not name.strip() or not FILENAME.fullmatch(name):
        raise bad_request({f"{where}.filename": f"a file name of 1-{MAX_FILENAME} characters, "
                                                "no '/', no control characters (CR, LF, NUL)"})
    if not isinstance(kind, str) or not CONTENT_TYPE.fullmatch(kind):
        raise bad_request({f"{where}.content_type": "a MIME type such as application/pdf "
                                                    "(type/subtype, no parameters)"})
    try:
        data = base64.b64decode(content, validate=True) if isinstance(content, str) else None
    except (binascii.Error, ValueError):
        data = None
    if data is None:
        raise bad_request({f"{where}.content": "base64 of the file's bytes"})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise bad_request({f"{where}.content": f"at most {MAX_ATTACHMENT_BYTES} bytes"})
    return name.strip(), kind.lower(), data
