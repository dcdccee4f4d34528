"""What a chat visitor sees of their conversation (``GET /chat/<workspace>/messages``).

Read from the store, for the conversation and visitor of the widget's signed session (never
ones named by the caller): the visitor's own messages (``in`` from ``chat:<visitor id>``) and the
agents' chat answers addressed to them (``out`` on the chat channel, to that visitor). Never
internal notes, never mail of the ticket, never another visitor's messages (a merged ticket
can hold two conversations).

Paging by ``since``: every answer carries a ``cursor`` (the store id of the newest message
looked at, a decimal string the widget treats as opaque); ``?since=<cursor>`` returns only
messages stored after it, oldest first, at most ``PAGE_SIZE``. Without it: the newest
``PAGE_SIZE`` messages. Ids are global, so the cursor survives a merge or a follow-up ticket.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import and_, or_, select

from channels import chat
from gateway.edges import http
from store.models import Message, ThreadKey, Workspace
from tickets import threads

CHANNEL = "chat"
PAGE_SIZE = 200                       # messages per answer
MAX_CURSOR_DIGITS = 18                # a cursor fits a signed 64-bit id


@dataclass(frozen=True)
class Page:
    messages: list[dict]
    cursor: str


def parse_since(value: str | None) -> int | None:
    """The ``since`` parameter as an id; 400 naming the field when it is not a cursor."""
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > MAX_CURSOR_DIGITS:
        http.reject(400, "invalid_parameters", "since is not a cursor", CHANNEL,
                    {"since": "must be the cursor of an earlier answer"})
    return int(value)


def visible_page(workspace: str, conversation_id: str, visitor_id: str,
                 since: int | None) -> Page:
    """The messages of the conversation the visitor may see, after ``since``."""
    with http.runtime().read_sessions() as session:
        ticket_id = session.scalar(
            select(ThreadKey.ticket_id).join(Workspace, Workspace.id == ThreadKey.workspace_id)
            .where(Workspace.slug == workspace, ThreadKey.key == _key(conversation_id)))
        if ticket_id is None:
            return Page([], str(since or 0))
        rows = list(session.scalars(_query(ticket_id, visitor_id, since)))
    if since is None:
        rows.reverse()  # fetched newest first to keep the newest page
    address = _address(visitor_id)
    shown = [m for m in rows if m.direction == "in" or address in (m.to or [])]
    cursor = max((m.id for m in rows), default=since or 0)
    return Page([message_json(m) for m in shown], str(cursor))


def _key(conversation_id: str) -> str:
    return threads.conversation_key(SimpleNamespace(
        channel=CHANNEL, account=chat.ACCOUNT,
        thread=SimpleNamespace(conversation_id=conversation_id)))


def _address(visitor_id: str) -> str:
    return f"chat:{visitor_id}"


def _query(ticket_id: int, visitor_id: str, since: int | None):
    """The visitor's messages and the ticket's chat answers (whom an answer is addressed to
    is checked after: ``to`` is a JSON list)."""
    query = select(Message).where(
        Message.ticket_id == ticket_id,
        or_(and_(Message.direction == "in", Message.from_address == _address(visitor_id)),
            and_(Message.direction == "out", Message.channel == CHANNEL)))
    if since is None:
        return query.order_by(Message.id.desc()).limit(PAGE_SIZE)
    return query.where(Message.id > since).order_by(Message.id).limit(PAGE_SIZE)


def message_json(m: Message) -> dict:
    """One message as the widget shows it; ``id`` is stable across polls (the visitor's own
    message id for theirs, so the page recognizes a message it showed when it was sent)."""
    return {"id": m.native_id if m.direction == "in" else f"reply-{m.id}",
            "direction": m.direction, "from": m.from_name, "text": m.text,
            "sent_at": m.sent_at or m.received_at,
            "attachments": [a.get("filename", "") for a in m.attachments or []]}
