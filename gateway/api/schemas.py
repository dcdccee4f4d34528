"""The answers of the REST API as pydantic models: exactly the dicts ``tickets.wire`` and the
views build (field for field, every field present), so the OpenAPI document shows them and
schemathesis checks each answer against them. The views keep building dicts; these models
only describe them (``gateway.api.spec``)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from routing.model import PRIORITIES_HIGHEST_FIRST
from store.models import STATUSES

Time = Annotated[datetime | None, Field(description="ISO 8601, UTC")]
Status = Literal[STATUSES]  # type: ignore[valid-type]
Priority = Literal[PRIORITIES_HIGHEST_FIRST]  # type: ignore[valid-type]
Presence = Literal["online", "away", "offline"]
Cursor = Annotated[str | None, Field(description="`cursor` of the next page; null: the last")]


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str]


class Error(BaseModel):
    """Every error answer (``gateway.errors``)."""
    error: ErrorDetail


class Identity(BaseModel):
    kind: str
    value: str
    bouncing: bool
    verified: bool = Field(description="false: an unverified contact (e.g. typed into the "
                                       "chat widget)")


class TicketCustomer(BaseModel):
    """The customer as a ticket shows it (``tickets.wire.customer_json``)."""
    id: int
    name: str
    email: str | None
    identities: list[Identity]


class Sla(BaseModel):
    first_response_due: Time
    next_response_due: Time
    resolution_due: Time
    breached: bool


class Routing(BaseModel):
    reason: dict[str, Any] | None = Field(description="why the ticket went where it did "
                                                      "(docs/routing.md)")


class Ticket(BaseModel):
    number: int
    subject: str
    status: Status
    priority: Priority
    channel: str
    customer: TicketCustomer | None
    message_count: int
    assignee: str | None
    skills: dict[str, int]
    tags: list[str]
    language: str | None
    created_at: Time
    updated_at: Time
    sla: Sla
    routing: Routing
    merged_into: int | None
    follow_up_of: int | None
    follow_ups: list[int] = Field(description="numbers of the tickets that follow this one up")


class Sender(BaseModel):
    name: str
    address: str


class Attachment(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str


class Delivery(BaseModel):
    status: Literal["queued", "sent", "failed", "outbox"]
    detail: str
    attempts: int
    delivered_at: Time


class Message(BaseModel):
    id: int
    direction: Literal["in", "out", "note"]
    channel: str
    native_id: str
    sender: Sender = Field(alias="from")
    to: list[str]
    cc: list[str]
    bcc: list[str] = Field(description="out messages: the blind copies (sent in the envelope "
                                       "only); empty otherwise")
    subject: str
    text: str
    reply_text: str = Field(description="the new text, without quoted history and signature")
    html: str
    attachments: list[Attachment]
    classification: str = Field(description="normal, auto_reply, out_of_office, bounce, bulk, "
                                            "own_loop, spam, ...")
    classification_detail: dict[str, Any]
    created_at: Time
    author: str | None = Field(description="the agent of an out/note message")
    delivery: Delivery | None = Field(description="out messages only")
    sender_verified: bool = Field(description="false: threaded by a hint that proves nothing "
                                              "of the sender, who is no participant and never "
                                              "gets replies")


class TicketWithMessages(Ticket):
    messages: list[Message] = Field(description="oldest first")


class Entry(BaseModel):
    """A quarantine entry (``tickets.wire.entry_json``)."""
    id: int
    channel: str
    native_id: str
    reason: str
    detail: str
    received_at: Time
    size: int
    replayed_at: Time


class AuditEvent(BaseModel):
    id: int
    kind: str = Field(description="created, threaded, status, priority, assignee, tags, offer, "
                                  "sla_breach, merged_into, merged_from, follow_up, "
                                  "message_edited (docs/api.md)")
    old: str
    new: str
    actor: str = Field(description="the PATCH's or reply's `author`, `rules`, `router`, "
                                   "`sweep` or `system`")
    at: Time



class TicketNow(BaseModel):
    """What an ``If-Match`` version is made of, as the ticket has it now."""
    number: int = Field(description="the ticket changed (a merged ticket's survivor)")
    status: Status
    assignee: str | None
    priority: Priority
    message_count: int
    updated_at: Time


class MessagePreview(BaseModel):
    id: int
    direction: Literal["in", "out", "note"]
    author: str
    sender: Sender = Field(alias="from")
    text: str = Field(description="its first 200 characters")
    created_at: Time


class TicketChangedDetail(ErrorDetail):
    etag: str = Field(description="the ticket's ETag now: retry with it once you have looked")
    current: TicketNow
    messages: list[MessagePreview] | None = Field(
        description="messages since the If-Match ETag, oldest first (at most 50); null when "
                    "it was none of ours")
    events: list[AuditEvent] | None = Field(
        description="audit entries since the If-Match ETag, oldest first (at most 50)")


class TicketChanged(BaseModel):
    """412 ``ticket_changed``: the ticket is no longer at the If-Match version."""
    error: TicketChangedDetail


class PresenceEntry(BaseModel):
    agent: str
    name: str
    state: Literal["viewing", "typing"]
    since: Time = Field(description="when the agent took this state")
    expires_at: Time = Field(description="60 s after the latest renewal")


class PresenceList(BaseModel):
    presence: list[PresenceEntry] = Field(description="typing first, then by agent")


class Agent(BaseModel):
    """An agent (``gateway.api.agents.agent_json``)."""
    id: str
    name: str
    email: str
    skills: dict[str, Annotated[int, Field(ge=1, le=5)]]
    capacity: dict[str, Annotated[int, Field(ge=0)]] = Field(
        description="concurrent tickets per channel")
    status: Presence
    load: dict[str, Annotated[int, Field(ge=0)]] = Field(
        description="open assignments per channel (read-only)")
    departments: list[str]
    total: float = Field(ge=0, description="cap in weighted units; 0: the channel capacities "
                                           "only")
    calendar: str = Field(description="business-hours calendar of the workspace's routing "
                                      "block; empty: always available")
    last_assigned_at: Time


class Customer(TicketCustomer):
    """A customer (``gateway.api.customers.customers_json``): the ticket's customer object
    plus tags, ticket count and creation time."""
    tags: list[str] = Field(description="read by routing rules (customer_tags) and priority "
                                        "raisers (vip_tags) for the customer's next message")
    ticket_count: int = Field(description="tickets of the customer, deleted ones left out")
    created_at: Time


class Canned(BaseModel):
    """A canned response (``gateway.api.canned.canned_json``)."""
    id: int
    name: str
    text: str = Field(description="template: {customer.name}, {ticket.number}, "
                                  "{ticket.subject}, {agent.name}; {{ and }} for braces")
    html: str = Field(description="template as `text`, sanitized; empty: none")
    tags: list[str]
    uses: int = Field(ge=0, description="replies sent with it")
    created_at: Time
    updated_at: Time


class Offer(BaseModel):
    number: int
    channel: str
    subject: str
    priority: Priority
    offered_at: Time
    expires_at: Time


class Merged(BaseModel):
    number: int
    merged_into: int
    status: str


class TicketPage(BaseModel):
    tickets: list[Ticket]
    next_cursor: Cursor


class EventPage(BaseModel):
    events: list[AuditEvent]
    next_cursor: Cursor


class EntryPage(BaseModel):
    entries: list[Entry]
    next_cursor: Cursor


class CustomerPage(BaseModel):
    customers: list[Customer]
    next_cursor: Cursor


class CannedPage(BaseModel):
    canned: list[Canned]
    next_cursor: Cursor


class AgentList(BaseModel):
    agents: list[Agent]


class OfferList(BaseModel):
    offers: list[Offer]
