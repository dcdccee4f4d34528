"""Agent actions of the REST API (docs/api.md), under /api/v1 (``gateway.api.root``):
``POST /tickets/<n>/replies`` {text | canned, html?, attachments?, author?, to?, cc?, bcc?}
(email recipients, ``tickets.recipients``; ``If-Match``: ``gateway.api.collision``),
``POST /tickets/<n>/notes`` {text, author?}, ``POST /tickets/<n>/merge`` {into, author?}.

The bodies are the models of ``gateway.api.action_input`` (``ReplyIn``, ``NoteIn``,
``MergeIn``), validated before the ticket is looked up (a reply's attachments once it is found:
an unknown ticket is a 404 whatever they hold); as always, these endpoints ignore fields they do
not know (a note refuses ``html``). A ticket of another workspace is a 404. A reply is stored
at once (201, ``delivery.status`` queued) and its delivery enqueued on the ``outbound`` queue
after the commit; when Redis is down at that moment the message stays queued
and the outbound sweep enqueues it later (nothing is lost). An ``Idempotency-Key`` header makes
a retried request return the message the first one stored.
"""
from __future__ import annotations

import base64
import logging

from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlalchemy import select

from config import signing
from gateway.api import canned_reply, collision, params as wire, schemas
from gateway.api.action_input import (NUMBER_AND_KEY, TICKET_CHANGED, ActionHeaders, AttachmentIn,
                                      MergeIn, NoteIn, ReplyHeaders, ReplyIn)
from gateway.api.params import TicketNumber, json_body
from gateway.api.requests import problems
from gateway.api.spec import operation, reply
from gateway.app_runtime import runtime
from gateway.errors import ApiError, bad_request
from queues import outbound as queue
from store import repo
from store.models import Message, Ticket
from tickets import actions as agent_actions, assign, recipients, routing_events
from tickets.actions import ActionRefused, Draft
from tickets.wire import delivery_json, message_json

log = logging.getLogger(__name__)
bp = Blueprint("actions", __name__)
@bp.post("/tickets/<int:number>/replies")
@operation("Reply through the ticket's channel: stored at once, delivered by the outbound "
           "worker; the ticket becomes answered",
           {201: reply("The stored reply with its delivery state", schemas.Message),
            412: TICKET_CHANGED},
           body=ReplyIn, errors=(400, 401, 404, 409, 503), path=TicketNumber,
           headers=ReplyHeaders)
def post_reply(number: int):
    body, key, attachment_problems = _request(ReplyIn, later="attachments")
    wanted = collision.if_match()
    rt = runtime()
    config = rt.config.workspace(g.workspace)
    with rt.sessions.begin() as session:
        workspace, ticket = _ticket(session, number)
        if attachment_problems:  # named once the ticket is known, as they always were
            raise bad_request(attachment_problems)
        if agent_actions.existing(session, workspace.id, "out", key) is None:
            collision.guard(session, ticket, wanted)  # a retried request gets its reply
        draft, target = _draft(body, key), repo.survivor(session, ticket)
        if body.canned is not None:
            canned_reply.use(session, config, target, draft, body.canned)
        draft.to, draft.cc, draft.bcc = _recipients(body, config, ticket, rt.config.workspaces)
        draft.attachments = _attachments(body.attachments or [], rt.blobs)
        message = _refusable(agent_actions.reply, session, workspace, config, target, draft,
                             signing.default_key(), rt.config.workspaces)
        answer, message_id, survivor = message_body(message), message.id, message.ticket_id
        number = session.get(Ticket, survivor).number
    if answer["delivery"]["status"] == "queued":
        _enqueue_delivery(rt, message_id)
    notify_change(rt, config, number, {"kind": "reply", "message_id": message_id})
    return jsonify(answer), 201


@bp.post("/tickets/<int:number>/notes")
@operation("Add an internal note (never sent)", {201: reply("The note", schemas.Message)},
           body=NoteIn, errors=(400, 401, 404, 503), **NUMBER_AND_KEY)
def post_note(number: int):
    body, key, _ = _request(NoteIn)
    draft = _draft(body, key)
    rt = runtime()
    with rt.sessions.begin() as session:
        workspace, ticket = _ticket(session, number)
        target = repo.survivor(session, ticket)
        message = agent_actions.note(session, workspace, target, draft)
        answer, number = message_body(message), target.number
    notify_change(rt, rt.config.workspace(g.workspace), number,
            {"kind": "note", "message_id": answer["id"]})
    return jsonify(answer), 201


@bp.post("/tickets/<int:number>/merge")
@operation("Merge the ticket into another (messages, thread keys, participants move)",
           {200: reply("Merged", schemas.Merged)}, path=TicketNumber, body=MergeIn,
           errors=(400, 401, 404, 409, 503))
def post_merge(number: int):
    body = MergeIn.parse(json_body())
    into, author = body.into, body.author or "api"
    rt = runtime()
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
    notify_change(rt, rt.config.workspace(g.workspace), survivor.number,
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


def notify_change(rt, config, number: int, change: dict) -> None:
    """Enqueue the webhook event of a committed change; Redis down loses only the event."""
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


def _request(model: type[NoteIn], later: str = "") -> tuple[NoteIn, str, dict[str, str]]:
    """The body as ``model`` and the Idempotency-Key; one 400 names every bad field of both,
    but for the problems of the field ``later``, returned for the view to raise (after the
    ticket lookup: an unknown ticket is a 404 whatever its attachments)."""
    found: dict[str, str] = {}
    body = key = None
    try:
        body = model.model_validate(json_body())
    except ValidationError as exc:
        found |= problems(model, exc)
    try:
        key = ActionHeaders.model_validate(
            {"Idempotency-Key": request.headers.get("Idempotency-Key", "").strip()})
    except ValidationError as exc:
        found |= problems(ActionHeaders, exc)
    deferred = {path: problem for path, problem in found.items()
                if later and (path == later or path.startswith(later + "["))}
    if len(deferred) < len(found):
        raise bad_request({p: m for p, m in found.items() if p not in deferred})
    return body, key.idempotency_key, deferred


def _draft(body: NoteIn, key: str) -> Draft:
    return Draft(text=body.text, html=getattr(body, "html", "") or "", author=body.author,
                 idempotency_key=key)


def _recipients(body: ReplyIn, config, ticket: Ticket, workspaces):
    """The named ``to``, ``cc``, ``bcc`` (None: the default): email tickets only, never one
    of our own addresses (a loop)."""
    named = {"to": body.to, "cc": body.cc, "bcc": body.bcc}
    wrong: dict[str, str] = {}
    sender = agent_actions.sender_address(config)
    for name, addresses in named.items():
        if addresses is None:
            continue
        if ticket.channel not in agent_actions.MAIL_CHANNELS:
            wrong[name] = "only replies by email take recipients"
        for index, address in enumerate(addresses):
            if recipients.own(workspaces, sender, address):
                wrong[f"{name}[{index}]"] = "our own address: a reply never goes there"
    if wrong:
        raise bad_request(wrong)
    return tuple(None if a is None else [x.lower() for x in a] for a in named.values())


def _attachments(attachments: list[AttachmentIn], blobs) -> list[dict]:
    """Validated attachments -> stored blobs, by reference."""
    stored = []
    for item in attachments:
        data = base64.b64decode(item.content, validate=True)
        stored.append({"filename": item.filename.strip(),
                       "content_type": item.content_type.lower(), "size": len(data),
                       "sha256": blobs.put(data)})
    return stored
