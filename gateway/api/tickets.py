"""Tickets of the REST API (docs/api.md), under /api/v1 (``gateway.api.root``): the list, one
ticket with its messages (its audit trail: ``gateway.api.ticket_events``).

The key's workspace (``g.workspace``, set by the root blueprint) is the only one seen: a ticket of
another workspace is a plain 404. Lists are keyset-paginated by id, newest first, with an opaque
cursor; every query parameter is validated first so bad input is a 400 naming the parameter,
never a 500.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api import collision, params as wire, schemas
from gateway.api.params import TicketNumber, TicketQuery
from gateway.api.spec import operation, reply
from gateway.app_runtime import runtime
from gateway.errors import ApiError
from store import search
from store.models import Identity, Message, Ticket, Workspace
from tickets.wire import load_relations, message_json, ticket_json

bp = Blueprint("tickets", __name__)
HIDDEN_STATUS = "deleted"                    # left out of lists unless asked for by status
OTHER_IDENTITY_KINDS = ("telegram", "chat", "phone")  # `customer=kind:value` looks these up


def workspace_id_of(session: Session) -> int | None:
    return session.scalar(select(Workspace.id).where(Workspace.slug == g.workspace))


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def path_id(value: int, maximum: int) -> int:
    """A number from the path; one larger than its column can hold names nothing: 404."""
    if value > maximum:
        raise not_found("resource")
    return value


@bp.get("/tickets")
@operation("List tickets, newest first", {200: reply("A page", schemas.TicketPage)},
           query=TicketQuery, errors=(400, 401, 503))
def list_tickets():
    p = wire.ticket_list(request.args)
    with runtime().read_sessions() as session:
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
@operation("A ticket with its messages, oldest first",
           {200: reply("The ticket; its `ETag` header is the ticket's version",
                       schemas.TicketWithMessages)}, path=TicketNumber,
           errors=(401, 404, 503),
           description="The `ETag` changes with every message, status, assignee or priority "
                       "change; send it as `If-Match` with a reply or a PATCH to be refused "
                       "(412 `ticket_changed`) when someone else acted first.")
def get_ticket(number: int):
    with runtime().read_sessions() as session:
        ticket = ticket_of(session, number)
        messages = session.scalars(select(Message).where(Message.ticket_id == ticket.id)
                                   .order_by(Message.received_at, Message.id))
        body = ticket_json(ticket, load_relations(session, [ticket]))
        body["messages"] = [message_json(m) for m in messages]
        return jsonify(body), 200, collision.etag_of(session, ticket)

