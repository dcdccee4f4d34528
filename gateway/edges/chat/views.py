"""The chat edge: the signed webhook ``POST /hooks/chat/<workspace>`` and the chat widget.

The webhook hands the raw body and the signature headers to ``gateway.edges.chat.intake.accept`` (the
one verify-validate-enqueue path) and answers ``202`` with a reference. The widget's pages and
its server-side signing live in ``gateway.edges.chat.widget`` (registered below as part of ``bp``).
docs/channels/chat.md describes the payload, signing and status codes.
"""
from __future__ import annotations

from flask import Blueprint, request

from gateway.edges.chat import widget as chat_widget
from gateway.edges import http
from gateway.edges.chat.intake import (SIGNATURE_HEADER, TIMESTAMP_HEADER, accept, request_body, site_or_404)

bp = Blueprint("chat", __name__)
bp.register_blueprint(chat_widget.bp)


@bp.post("/hooks/chat/<workspace>")
def webhook(workspace: str):
    site = site_or_404(workspace)
    body = request_body()
    envelope, _ = accept(site, body, request.headers.get(TIMESTAMP_HEADER),
                         request.headers.get(SIGNATURE_HEADER), source="webhook")
    return http.accepted(envelope)
