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

from gateway.api.requests import ApiRequest
from gateway.errors import ApiError
from store.models import Ticket
from tickets import versions

MAX_IF_MATCH = 1000  # characters of an If-Match header
# RFC 9110: "*" or a list of entity-tags (a weak one never matches); one pattern for the
# document and the validation, so the two cannot disagree.
TAG = '(?:\\*|(?:W/)?"[\\x21\\x23-\\x7e]*")'
IF_MATCH = f"^[ \\t]*{TAG}[ \\t]*(?:,[ \\t]*{TAG}[ \\t]*)*$"
IF_MATCH_RULE = 'a list of ETags ("...") or *'


class IfMatchHeaders(ApiRequest):
    MESSAGES = {"If-Match": IF_MATCH_RULE}
    if_match: str = Field(None, alias="If-Match", max_length=MAX_IF_MATCH, pattern=IF_MATCH,
                          description="the ETag of GET /tickets/<n>: refused with 412 "
                                      "ticket_changed when the ticket changed since")


def if_match() -> list[str] | None:
    """The entity tags of the request's ``If-Match`` (None: no header); a 400 when it is
    no list of them."""
    value = request.headers.get("If-Match")
    if value is None:
        return None
    IfMatchHeaders.parse({"If-Match": value})
    return re.findall(TAG, value)


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
