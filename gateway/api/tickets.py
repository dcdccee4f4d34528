"""The REST API (PRODUCT.md section 9), mounted at /api/v1: tickets and the quarantine.

Every view but ``openapi.json`` needs a Bearer key and sees only the key's workspace: a ticket
or entry of another workspace is a plain 404. Lists are keyset-paginated by id, newest first,
with an opaque cursor; every query parameter is validated first so bad input is a 400 naming
the parameter, never a 500.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api import auth, openapi, params as wire
from gateway.errors import ApiError
from tickets.wire import audit_json, entry_json, load_relations, message_json, ticket_json
from gateway.web import runtime_of
from store import search
from store.models import Identity, Message, QuarantineEntry, Ticket, TicketEvent, Workspace
from queues.replay import NotReplayable, replay_entry

bp = Blueprint("api", __name__)
PUBLIC_ENDPOINTS = {"api.openapi_document"}  # views answered without a key
HIDDEN_STATUS = "deleted"                    # left out of lists unless asked for by status
OTHER_IDENTITY_KINDS = ("telegram", "chat", "phone")  # `customer=kind:value` looks these up


@bp.before_request
def _authenticate() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        g.workspace = auth.authenticate()


def workspace_id_of(session: Session) -> int | None:
    return session.scalar(select(Workspace.id).where(Workspace.slug == g.workspace))


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def path_id(value: int, maximum: int) -> int:
    """A number from the path; one larger than its column can hold names nothing: 404."""
    if value > maximum:
        raise not_found("resource")
    return value


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.get("/tickets")
def list_tickets():
    p = wire.ticket_list(request.args)
    with runtime_of(current_app).read_sessions() as session:
        rows = list(session.scalars(ticket_query(session, workspace_id_of(session), p)))
        page, next_cursor = wire.page(rows, p.limit, wire.TICKET_CURSOR)
        rel = load_relations(session, page)
        return jsonify({"tickets": [ticket_json(t, rel) for t in page],
                        "next_cursor": next_cursor})


def ticket_query(session: Session, workspace_id: int | None, p: wire.TicketList):
    query = select(Ticket).where(Ticket.workspace_id == workspace_id)
    if p.statuses:
        query = query.where(Ticket.status.in_(p.statuses))
    else:
        query = query.where(Ticket.status != HIDDEN_STATUS)
    if p.channel:
        query = query.where(Ticket.channel == p.channel)
    if p.assignee:
        query = query.where(Ticket.assignee == p.assignee)
    if p.customer:
        query = query.where(customer_clause(workspace_id, p.customer))
    if p.after is not None:
        query = query.where(Ticket.id < p.after)
    if p.q:
        query = search.restrict(session, query, p.q, p.limit + 1)
    return query.order_by(Ticket.id.desc()).limit(p.limit + 1)


def customer_clause(workspace_id: int | None, value: str):
    """``value`` is a customer id, an email address, or ``kind:value`` of another identity."""
    if isinstance(value, int):
        return Ticket.customer_id == value
    kind, sep, rest = value.partition(":")
    if sep and kind in OTHER_IDENTITY_KINDS:
        match = (Identity.kind == kind) & (Identity.value == rest)
    else:
        match = (Identity.kind == "email") & (Identity.value == value.lower())
    return Ticket.customer_id.in_(select(Identity.customer_id)
                                  .where(Identity.workspace_id == workspace_id, match))


def ticket_of(session: Session, number: int) -> Ticket:
    """The key's workspace's ticket ``number``, else a 404."""
    ticket = session.scalar(select(Ticket).where(
        Ticket.workspace_id == workspace_id_of(session),
        Ticket.number == path_id(number, wire.MAX_TICKET_NUMBER)))
    if ticket is None:
        raise not_found("ticket")
    return ticket


@bp.get("/tickets/<int:number>")
def get_ticket(number: int):
    with runtime_of(current_app).read_sessions() as session:
        ticket = ticket_of(session, number)
        messages = session.scalars(select(Message).where(Message.ticket_id == ticket.id)
                                   .order_by(Message.received_at, Message.id))
        body = ticket_json(ticket, load_relations(session, [ticket]))
        body["messages"] = [message_json(m) for m in messages]
        return jsonify(body)


@bp.get("/tickets/<int:number>/events")
def list_ticket_events(number: int):
    """The ticket's audit trail, oldest first: who changed what and when."""
    p = wire.entry_list(request.args, wire.EVENT_CURSOR)
    with runtime_of(current_app).read_sessions() as session:
        query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_of(session, number).id)
        if p.after is not None:
            query = query.where(TicketEvent.id > p.after)
        rows = list(session.scalars(query.order_by(TicketEvent.id).limit(p.limit + 1)))
        page, next_cursor = wire.page(rows, p.limit, wire.EVENT_CURSOR)
        return jsonify({"events": [audit_json(e) for e in page], "next_cursor": next_cursor})


@bp.get("/quarantine")
def list_quarantine():
    p = wire.entry_list(request.args)
    query = select(QuarantineEntry).where(QuarantineEntry.workspace == g.workspace)
    if p.after is not None:
        query = query.where(QuarantineEntry.id < p.after)
    query = query.order_by(QuarantineEntry.id.desc()).limit(p.limit + 1)
    with runtime_of(current_app).read_sessions() as session:
        page, next_cursor = wire.page(list(session.scalars(query)), p.limit,
                                        wire.ENTRY_CURSOR)
        return jsonify({"entries": [entry_json(e) for e in page], "next_cursor": next_cursor})


@bp.post("/quarantine/<int:entry_id>/replay")
def replay(entry_id: int):
    rt = runtime_of(current_app)
    with rt.sessions.begin() as session:
        entry = session.scalar(select(QuarantineEntry).where(
            QuarantineEntry.id == path_id(entry_id, wire.MAX_ROW_ID),
            QuarantineEntry.workspace == g.workspace))
        if entry is None:
            raise not_found("quarantine entry")
        try:
            replay_entry(rt, session, entry)
        except NotReplayable as exc:
            raise ApiError(409, "not_replayable", str(exc)) from exc
        body = entry_json(entry)
    return jsonify(body), 202
