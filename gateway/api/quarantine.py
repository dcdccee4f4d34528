"""The quarantine of the REST API (docs/api.md), under /api/v1 (``gateway.api.root``):
``GET /quarantine`` lists the key's workspace's entries, newest first (keyset-paginated like
the tickets), ``POST /quarantine/<id>/replay`` puts an entry's stored envelope back on its
channel queue (202 with the entry; 409 ``not_replayable`` when its channel has no queue).
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from gateway.api import params as wire, schemas
from gateway.api.params import EntryId, PageQuery
from gateway.api.spec import operation, reply
from gateway.api.tickets import not_found, path_id
from gateway.app_runtime import runtime
from gateway.errors import ApiError
from queues.replay import NotReplayable, replay_entry
from store.models import QuarantineEntry
from tickets.wire import entry_json

bp = Blueprint("quarantine", __name__)


@bp.get("/quarantine")
@operation("List quarantine entries, newest first", {200: reply("A page", schemas.EntryPage)},
           query=PageQuery, errors=(400, 401, 503))
def list_quarantine():
    p = wire.entry_list(request.args)
    query = select(QuarantineEntry).where(QuarantineEntry.workspace == g.workspace)
    if p.after is not None:
        query = query.where(QuarantineEntry.id < p.after)
    query = query.order_by(QuarantineEntry.id.desc()).limit(p.limit + 1)
    with runtime().read_sessions() as session:
        page, next_cursor = wire.page(list(session.scalars(query)), p.limit,
                                      wire.ENTRY_CURSOR)
        return jsonify({"entries": [entry_json(e) for e in page], "next_cursor": next_cursor})


@bp.post("/quarantine/<int:id>/replay")
@operation("Put the entry's envelope back on its channel queue",
           {202: reply("Queued; the entry with `replayed_at`", schemas.Entry)}, path=EntryId,
           errors=(401, 404, 409, 503))
def replay(id: int):
    rt = runtime()
    with rt.sessions.begin() as session:
        entry = session.scalar(select(QuarantineEntry).where(
            QuarantineEntry.id == path_id(id, wire.MAX_ROW_ID),
            QuarantineEntry.workspace == g.workspace))
        if entry is None:
            raise not_found("quarantine entry")
        try:
            replay_entry(rt, session, entry)
        except NotReplayable as exc:
            raise ApiError(409, "not_replayable", str(exc)) from exc
        body = entry_json(entry)
    return jsonify(body), 202
