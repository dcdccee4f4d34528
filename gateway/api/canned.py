"""Canned responses of the REST API, under /api/v1 (``gateway.api.root``):
``GET /canned?q=&tag=&limit=&cursor=`` -> ``{"canned": [Canned], "next_cursor"}``,
``POST /canned`` (201), ``GET /canned/<id>``, ``PUT /canned/<id>`` (replaces every field),
``DELETE /canned/<id>`` (204).

Canned: ``id, name, text, html, tags, uses, created_at, updated_at``. ``text`` and ``html`` are
templates (``tickets.canned``: four placeholders, ``{{``/``}}`` for a brace); one with an
unknown placeholder or an unmatched brace is a 400 naming it. ``html`` is stored sanitized as a
reply's; a sanitized html that reads as another template (character references such as
``&#123;`` decode to braces) is a 400 too. ``name`` is unique per workspace (trimmed,
case-sensitive): a duplicate is a 409 ``name_taken``. Another workspace's canned response is a
plain 404. The list is keyset-paginated by id, newest first; ``q`` is a case-insensitive
substring of the name, ``tag`` keeps those having exactly that tag. ``uses`` counts the replies
sent with it (``POST /tickets/<n>/replies {"canned": id}``).
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.mail.html import sanitize
from gateway.api import params as wire, schemas
from gateway.api.canned_input import CannedId, CannedIn, CannedQuery
from gateway.api.customers import tag_clause
from gateway.api.params import json_body
from gateway.api.spec import operation, reply
from gateway.api.tickets import not_found, path_id, workspace_id_of
from gateway.app_runtime import runtime
from gateway.errors import ApiError, bad_request
from store import repo
from store.models import CannedResponse, utcnow
from tickets import canned as templates
from tickets.wire import iso

bp = Blueprint("canned", __name__)
CANNED_CURSOR = "n"  # cursor prefix, distinct from the other lists'
FIELDS = ("name", "text", "html", "tags")
ONE = dict(path=CannedId, errors=(401, 404, 503))


@bp.get("/canned")
@operation("List canned responses, newest first", {200: reply("A page", schemas.CannedPage)},
           query=CannedQuery, errors=(400, 401, 503))
def list_canned():
    errors: dict[str, str] = {}
    limit, after = wire.page_args(request.args, CANNED_CURSOR, errors)
    q, tag = wire.text_arg(request.args, "q", errors), wire.text_arg(request.args, "tag", errors)
    if errors:
        raise bad_request(errors)
    with runtime().read_sessions() as session:
        query = select(CannedResponse).where(
            CannedResponse.workspace_id == workspace_id_of(session))
        if q:
            query = query.where(CannedResponse.name.ilike(
                "%" + wire.escape_like(q) + "%", escape="\\"))
        if tag:
            query = query.where(tag_clause(session, tag, CannedResponse.tags))
        if after is not None:
            query = query.where(CannedResponse.id < after)
        rows = list(session.scalars(query.order_by(CannedResponse.id.desc()).limit(limit + 1)))
        page, next_cursor = wire.page(rows, limit, CANNED_CURSOR)
        return jsonify({"canned": [canned_json(c) for c in page], "next_cursor": next_cursor})


@bp.post("/canned")
@operation("Create a canned response", {201: reply("Created", schemas.Canned)}, body=CannedIn,
           errors=(400, 401, 409, 503))
def create_canned():
    fields = parse(json_body())
    with runtime().sessions.begin() as session:
        row = CannedResponse(workspace_id=repo.workspace_row(session, g.workspace).id, uses=0,
                             **fields)
        session.add(row)
        return jsonify(canned_json(_saved(session, row))), 201


@bp.get("/canned/<int:id>")
@operation("One canned response", {200: reply("The canned response", schemas.Canned)}, **ONE)
def get_canned(id: int):
    with runtime().read_sessions() as session:
        return jsonify(canned_json(find(session, id)))


@bp.put("/canned/<int:id>")
@operation("Replace a canned response (its usage count stays)",
           {200: reply("Replaced", schemas.Canned)}, body=CannedIn, path=CannedId,
           errors=(400, 401, 404, 409, 503))
def put_canned(id: int):
    fields = parse(json_body())
    with runtime().sessions.begin() as session:
        row = find(session, id)
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        return jsonify(canned_json(_saved(session, row)))


@bp.delete("/canned/<int:id>")
@operation("Delete a canned response", {204: reply("Deleted")}, **ONE)
def delete_canned(id: int):
    with runtime().sessions.begin() as session:
        session.delete(find(session, id))
    return "", 204


def parse(body: dict) -> dict:
    """The stored fields from the body: a 400 names every bad field."""
    given = CannedIn.parse(body)
    fields = given.model_dump(include=set(FIELDS))
    fields["tags"] = list(dict.fromkeys(fields["tags"]))  # once each, in order
    fields["html"] = sanitize(fields["html"]) if fields["html"].strip() else ""
    try:
        templates.check(fields["html"])
    except templates.TemplateError as exc:
        raise bad_request({"html": f"once sanitized: {exc}"}) from None
    return fields


def _saved(session: Session, row: CannedResponse) -> CannedResponse:
    """Flush ``row``; a name another canned response of the workspace has is a 409."""
    name = row.name
    try:
        session.flush()
    except IntegrityError:
        raise ApiError(409, "name_taken", f"a canned response named {name!r} exists",
                       {"name": "taken by another canned response of the workspace"}) from None
    return row


def find(session: Session, canned_id: int) -> CannedResponse:
    row = templates.find(session, workspace_id_of(session), path_id(canned_id, wire.MAX_ROW_ID))
    if row is None:
        raise not_found("canned response")
    return row


def canned_json(row: CannedResponse) -> dict:
    return {"id": row.id, "name": row.name, "text": row.text, "html": row.html,
            "tags": row.tags or [], "uses": row.uses, "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at)}
