"""``GET /api/v1/tickets/<number>/events`` (under ``gateway.api.root``): a ticket's audit trail,
who changed what and when, oldest first, cursor-paginated (``tickets.audit_trail``).

A ticket of another workspace, or none, is a 404; ``limit`` and ``cursor`` are validated as on
every list (a cursor of another list is a 400 naming ``cursor``).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from gateway.api import params as wire, schemas
from gateway.api.params import PageQuery, TicketNumber
from gateway.api.spec import operation, reply
from gateway.api.tickets import ticket_of
from gateway.app_runtime import runtime
from tickets import audit_trail
from tickets.wire import audit_json

bp = Blueprint("ticket_events", __name__)


@bp.get("/tickets/<int:number>/events")
@operation("The ticket's audit trail (every status, assignee, priority, tag, routing and SLA "
           "change), oldest first", {200: reply("A page", schemas.EventPage)},
           path=TicketNumber, query=PageQuery, errors=(400, 401, 404, 503),
           description="Who changed what and when: one event per change, `old` and `new` "
                       "value, `actor` and `at`. Pages follow `next_cursor` (null on the last "
                       "page); events written meanwhile appear on later pages, none twice.")
def list_ticket_events(number: int):
    p = wire.entry_list(request.args, wire.EVENT_CURSOR)
    with runtime().read_sessions() as session:
        rows = audit_trail.entries(session, ticket_of(session, number).id, p.after, p.limit + 1)
        page, next_cursor = wire.page(rows, p.limit, wire.EVENT_CURSOR)
        return jsonify({"events": [audit_json(e) for e in page], "next_cursor": next_cursor})
