"""The REST API's blueprint tree at /api/v1: one parent that authenticates every request once.

The parent ``api`` turns the ``Authorization: Bearer <key>`` header into ``g.workspace``
(``gateway.api.auth``; a 401 otherwise) before any view of its children runs: tickets,
ticket_events, quarantine, actions, agents, offers, patch, customers, canned, reports,
presence. Only ``GET /api/v1/openapi.json``, the document generated from the views' records
(``gateway.api.openapi``), is answered without a key: the one view whose record
(``gateway.api.spec``) says it is public, as the document says too. An unknown path or a
wrong method never reaches a blueprint: 404 and 405 come before any key is asked for.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from gateway.api import (actions, agents, auth, canned, customers, offers, openapi, patch,
                         presence, quarantine, reports, ticket_events, tickets)
from gateway.api.spec import operation, reply

PREFIX = "/api/v1"
api = Blueprint("api", __name__, url_prefix=PREFIX)
for child in (tickets, ticket_events, quarantine, actions, agents, offers, patch, customers,
              canned, reports, presence):
    api.register_blueprint(child.bp)


@api.before_request
def _authenticate() -> None:
    """Every view but those documented as public (``security: []``) needs the key."""
    record = getattr(current_app.view_functions[request.endpoint], "openapi", None)
    if record is None or not record.public:
        g.workspace = auth.authenticate()


@api.get("/openapi.json")
@operation("This document", {200: reply("OpenAPI 3.1", dict)}, errors=(), public=True)
def openapi_document():
    return jsonify(openapi.document(current_app))
