"""Collision detection of the REST API: ``ETag`` out, ``If-Match`` in, ``412 ticket_changed``.

``GET /tickets/<n>`` (and ``PATCH``'s answer) carry the ticket's ``ETag``
(``tickets.versions``). ``POST /tickets/<n>/replies`` and ``PATCH /tickets/<n>`` sent with
``If-Match`` are refused with 412 ``ticket_changed`` when the ticket is no longer at that
version; the error says what the ticket is now and which messages and audit entries came since.
The check runs after the ticket's row is locked, in the transaction that makes the change:
of two agents replying with the same ETag exactly one succeeds. Without ``If-Match`` nothing
changes. ``*`` matches any version; a weak tag (``W/"..."``) never matches (RFC 9110
strong comparison).
"""
from __future__ import annotations

import re

from flask import request
from pydantic import Field
from sqlalchemy.orm import Session

from gateway.api.requests import ONE_LINE, ApiRequest
from gateway.errors import ApiError, bad_request
from store.models import Ticket
from tickets import versions

MAX_IF_MATCH = 1000  # characters of an If-Match header
ENTITY_TAG = re.compile(r'\s*(\*|(?:W/)?"[\x21\x23-\x7e]*")\s*(?:,|$)')
IF_MATCH_RULE = 'a list of ETags ("...") or *'


class IfMatchHeaders(ApiRequest):
    if_match: str = Field("", alias="If-Match", max_length=MAX_IF_MATCH, pattern=ONE_LINE,
                          description="the ETag of GET /tickets/<n>: refused with 412 "
                                      "ticket_changed when the ticket changed since")


def if_match() -> list[str] | None:
    """The entity tags of the request's ``If-Match`` (None: no header); a 400 when it holds
    none."""
    value = request.headers.get("If-Match")
    if value is None:
        return None
    tags, position = [], 0
    if len(value) <= MAX_IF_MATCH:
        while position < len(value):
            found = ENTITY_TAG.match(value, position)
            if found is None:
                break
            tags.append(found.group(1))
            position = found.end()
    if not tags or position < len(value):
        raise bad_request({"If-Match": IF_MATCH_RULE})
    return tags


def guard(session: Session, ticket: Ticket, wanted: list[str] | None) -> None:
    """Lock what a change of ``ticket`` writes and refuse it (412) unless ``wanted`` (the
    If-Match tags, None: no header) matches its version."""
    if wanted is None:
        return
    versions.lock(session, ticket)
    try:
        versions.check(session, ticket, wanted)
    except versions.Changed as exc:
        raise ApiError(412, "ticket_changed", f"ticket {ticket.number} changed since that "
                       "version: look at what changed, then retry with the new ETag",
                       extra=exc.since, headers={"ETag": exc.since["etag"]}) from exc


def etag_of(session: Session, ticket: Ticket) -> dict[str, str]:
    """The ``ETag`` header of the ticket."""
    return {"ETag": str(versions.etag(session, ticket))}
