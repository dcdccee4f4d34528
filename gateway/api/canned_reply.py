"""A reply made from a canned response: ``POST /tickets/<n>/replies {"canned": id}``.

The body names ``text`` or ``canned``, never both (a 400 naming ``canned``), and no ``html``
with ``canned`` (the canned response's html is used). The canned response is looked up in the
key's workspace (another workspace's, or none: a 404 naming ``canned``), rendered for the
ticket the reply goes to (a merged ticket's survivor) with ``author`` as the agent
(``tickets.canned``), and the reply is stored with the rendered text and html; its ``uses``
grows by one in the reply's transaction (``tickets.actions.reply``; a retried request with
the same ``Idempotency-Key`` counts once). A stored template that is no longer valid is a 400
naming ``canned``; one that renders blank for this ticket, or longer than a reply may be, a
409 ``canned_unusable``.
"""
from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from config.workspaces import WorkspaceConfig
from gateway.api import params as wire
from gateway.api.requests import MAX_TEXT
from gateway.errors import ApiError, bad_request
from store.models import Ticket
from tickets import canned as templates
from tickets.actions import Draft

MAX_HTML = MAX_TEXT * 4
CANNED_FIELD = Field(None, ge=1, le=wire.MAX_ROW_ID, description="id of a canned response "
                     "of the workspace, rendered for the ticket as the text (and html)")
CANNED_ID = "the id of a canned response (an integer), instead of text and html"
MESSAGES = {f"canned:{kind}": CANNED_ID
            for kind in ("int_type", "greater_than_equal", "less_than_equal")}
# The document's rule: text without canned, or canned without text and non-empty html.
ONE_OF = {"oneOf": [
    {"required": ["text"], "not": {"required": ["canned"]}},
    {"required": ["canned"], "not": {"anyOf": [
        {"required": ["text"]},
        {"required": ["html"], "properties": {"html": {"minLength": 1}}}]}}]}


@model_validator(mode="before")
@classmethod
def text_or_canned(cls, data):
    """Without ``canned``, ``text`` is required (its message says so)."""
    if isinstance(data, dict) and "canned" not in data and "text" not in data:
        return {**data, "text": None}
    return data


@field_validator("canned")
@classmethod
def not_both(cls, value: int, info: ValidationInfo) -> int:
    if info.data.get("text") is not None:
        raise PydanticCustomError("text_and_canned", "send text or canned, not both")
    if info.data.get("html"):
        raise PydanticCustomError("html_and_canned", "no html with canned: the canned "
                                                     "response's html is sent")
    return value


def use(session: Session, config: WorkspaceConfig, ticket: Ticket, draft: Draft,
        canned_id: int) -> None:
    """Fill ``draft`` with the canned response rendered for ``ticket``."""
    row = templates.find(session, ticket.workspace_id, canned_id)
    if row is None:
        raise ApiError(404, "not_found", f"canned response {canned_id} not found",
                       {"canned": "no canned response of this workspace has this id"})
    try:
        rendered = templates.render_for(session, row, ticket, draft.author, config.routing)
    except templates.TemplateError as exc:
        raise bad_request({"canned": str(exc)}) from None
    if not rendered.text.strip() or len(rendered.text) > MAX_TEXT \
            or len(rendered.html) > MAX_HTML:
        raise ApiError(409, "canned_unusable", f"canned response {canned_id} renders "
                       f"{'blank' if not rendered.text.strip() else 'too long'} for this ticket",
                       {"canned": f"its text must render to 1-{MAX_TEXT} characters"})
    draft.text, draft.html, draft.canned_id = rendered.text, rendered.html, rendered.canned_id
