"""SQLAlchemy 2 models of the core store (docs/architecture.md).

Uniqueness is how exactly-once is enforced: a message is unique per workspace + dedupe key, a
thread key per workspace + key, a ticket number per workspace.
"""
from __future__ import annotations

import random
from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, SmallInteger, String, Text, UniqueConstraint, text)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

STATUSES = ("new", "open", "answered", "postponed", "resolved", "closed", "spam", "deleted")
FINISHED = ("resolved", "closed", "spam", "deleted")  # hold no agent, no running SLA clock
# An agent's reply (tickets.actions: dedupe key "out:..."), never an acknowledgement ("ack:").
REPLY_ROWS = "direction = 'out' AND dedupe_key LIKE 'out:%'"
BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict: JSON, list: JSON}


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    last_ticket_number: Mapped[int] = mapped_column(Integer, default=0)


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    tags: Mapped[list] = mapped_column(default=list)  # e.g. vip; routing rules match on them
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(Base):
    """One way to reach a customer: an email address, a Telegram user, a chat visitor, a phone."""
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "value"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(320), index=True)  # ingest looks up by value
    bouncing: Mapped[bool] = mapped_column(Boolean, default=False)


class Contact(Base):
    """An unproven way to reach a customer (a chat widget visitor's typed email): only shown
    (API ``verified: false``), never looked up like an ``Identity``, so claiming an address
    gains nothing. Unique per customer; many customers may claim one address."""
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "value"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(320), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),
                      # the list of some statuses, newest first (an eighth of the store each)
                      Index("ix_tickets_ws_status", "workspace_id", "status", "id"),
                      Index("ix_tickets_ws_created", "workspace_id", "created_at"),
                      # the list, newest first: all of a workspace, or one assignee's
                      Index("ix_tickets_ws_id", "workspace_id", "id"),
                      Index("ix_tickets_ws_assignee", "workspace_id", "assignee", "id"),
                      *(Index(f"ix_tickets_{link}", link,  # the few that are set
                              sqlite_where=text(f"{link} IS NOT NULL"),
                              postgresql_where=text(f"{link} IS NOT NULL"))
                        for link in ("follow_up_of_id", "merged_into_id")),
                      Index("ix_tickets_waiting", "workspace_id", "queued_at", "id",
                            sqlite_where=text("routing_state = 'waiting'"),
                            postgresql_where=text("routing_state = 'waiting'")),
                      # the agents report (tickets.agent_reports): first responses, resolutions
                      Index("ix_tickets_ws_first_response", "workspace_id", "first_response_at"),
                      Index("ix_tickets_ws_resolved", "workspace_id", "resolved_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    number: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    channel: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    assignee: Mapped[str | None] = mapped_column(String(100))
    skills: Mapped[dict] = mapped_column(default=dict)
    tags: Mapped[list] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(20), default="")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    routing_reason: Mapped[dict] = mapped_column(default=dict)
    sla: Mapped[dict] = mapped_column(default=dict)  # due times and breaches, as in the API
    # Routing (tickets.assign): what the rules asked for and where the ticket is in the queue.
    preferred: Mapped[dict] = mapped_column(default=dict)
    department: Mapped[str] = mapped_column(String(100), default="")
    routing_state: Mapped[str] = mapped_column(String(10), default="")  # see tickets.assign
    routing_step: Mapped[int] = mapped_column(Integer, default=0)
    routing_step_at: Mapped[datetime | None] = mapped_column()  # when the current rung began
    queued_at: Mapped[datetime | None] = mapped_column()
    routing_next_at: Mapped[datetime | None] = mapped_column(index=True)  # rung, offer end
    excluded: Mapped[list] = mapped_column(default=list)  # agents never to route it to again
    # SLA clock (routing.sla.Clock) and when the sweep must look at the ticket next.
    sla_policy: Mapped[str] = mapped_column(String(63), default="")
    first_response_at: Mapped[datetime | None] = mapped_column()
    last_customer_at: Mapped[datetime | None] = mapped_column()
    last_agent_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    paused_since: Mapped[datetime | None] = mapped_column()
    paused_s: Mapped[float] = mapped_column(Float, default=0.0)
    sla_check_at: Mapped[datetime | None] = mapped_column(index=True)
    # Reporting (tickets.reports): kept as things happen, so a report reads the rows only.
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)   # finished -> active again
    # Any SLA target ever breached; None: no SLA policy applies to the ticket.
    sla_breached: Mapped[bool | None] = mapped_column(Boolean)
    # Seconds from creation to the first reply and to the (last) resolution: wall-clock and on
    # the SLA policy's business calendar (tickets.sla_clock.elapsed); read only when stamped.
    first_response_s: Mapped[float | None] = mapped_column(Float)
    first_response_bs: Mapped[float | None] = mapped_column(Float)
    resolution_s: Mapped[float | None] = mapped_column(Float)
    resolution_bs: Mapped[float | None] = mapped_column(Float)
    # Who (agent key) sent the first reply and held the ticket at its last resolution
    # (tickets.sla_clock; "" none named); None: not yet, or unknown (before migration 0016).
    first_response_by: Mapped[str | None] = mapped_column(String(100))
    resolved_by: Mapped[str | None] = mapped_column(String(100))



class ReportLog(Base):
    """A ticket as the reports count it, before (``sign`` -1) or after (+1) a change: written by
    database triggers on ``tickets`` in the changing transaction (migration 0015), only when a
    reported column changed and only for a counted ticket (not merged, spam or deleted). Rows
    are only ever inserted here; ``tickets.report_fold`` moves them into ``report_blocks``."""
    __tablename__ = "report_log"
    __table_args__ = (Index("ix_report_log_ws_created", "workspace_id", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[int] = mapped_column(BigInteger)  # no key: the ticket may be deleted
    sign: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str | None] = mapped_column(String(10))
    assignee: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list | None] = mapped_column(JSON)
    reopen_count: Mapped[int | None] = mapped_column(Integer)
    sla_breached: Mapped[bool | None] = mapped_column(Boolean)
    first_response_s: Mapped[float | None] = mapped_column(Float)
    first_response_bs: Mapped[float | None] = mapped_column(Float)
    resolution_s: Mapped[float | None] = mapped_column(Float)
    resolution_bs: Mapped[float | None] = mapped_column(Float)


class ReportBlock(Base):
    """The report's figures of the counted tickets created in one span of time, per group
    (``tickets.report_fold``): ``span`` packs a level and a block, the quarter hours
    ``[block * 2**level, (block + 1) * 2**level)`` since the Unix epoch; ``dim`` is ``all`` or
    a ``group_by``, ``value`` the group. Seconds as sums and log-spaced histograms
    (``tickets.report_buckets``), wall-clock and business."""
    __tablename__ = "report_blocks"
    __table_args__ = (UniqueConstraint("workspace_id", "dim", "span", "value"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(BigInteger)
    dim: Mapped[str] = mapped_column(String(10))
    span: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[str] = mapped_column(Text)
    created: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(BigInteger, default=0)
    reopened: Mapped[int] = mapped_column(BigInteger, default=0)
    backlog: Mapped[int] = mapped_column(BigInteger, default=0)
    met: Mapped[int] = mapped_column(BigInteger, default=0)
    breached: Mapped[int] = mapped_column(BigInteger, default=0)
    first_sum: Mapped[float] = mapped_column(Float, default=0.0)
    first_bsum: Mapped[float] = mapped_column(Float, default=0.0)
    resolution_sum: Mapped[float] = mapped_column(Float, default=0.0)
    resolution_bsum: Mapped[float] = mapped_column(Float, default=0.0)
    first_hist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    first_bhist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    resolution_hist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    resolution_bhist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")

class change_stamp(FunctionElement):  # lower case: a SQL function, used like one
    """The ``change_seq`` an agent row gets at every insert and update, Core or ORM.

    PostgreSQL: the writing transaction's id (``pg_current_xact_id``), so a reader asks for the
    ids its last snapshot did not see (``tickets.agent_feed``), whatever order writers commit
    in. SQLite: one more than the largest so far; writers take turns on the database's write
    lock, so the numbers grow in commit order."""
    type = BigInteger()
    inherit_cache = True


@compiles(change_stamp)
def _next_number(_element, _compiler, **_kw) -> str:
    return "(SELECT coalesce(max(change_seq), 0) + 1 FROM agents)"


@compiles(change_stamp, "postgresql")
def _transaction_id(_element, _compiler, **_kw) -> str:
    return "pg_current_xact_id()::text::bigint"


class Agent(Base):
    """An agent of a workspace (docs/routing.md). ``key`` is the id the API shows.

    ``load`` (tickets per channel) and ``used`` (weighted units) are recomputed from the active
    assignments while the row is locked, so they never drift from the truth. ``version`` is a
    new random number at every insert and update (``_new_version``); ``change_seq`` is the
    writer's place in the agent change feed (:class:`change_stamp`): routing's in-process agent
    cache (``tickets.agent_cache``) reads only the rows changed since it last looked."""
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),
                      Index("ix_agents_changes", "workspace_id", "change_seq"),  # the feed
                      Index("ix_agents_change_seq", "change_seq"))  # SQLite's next stamp
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    skills: Mapped[dict] = mapped_column(default=dict)
    departments: Mapped[list] = mapped_column(default=list)
    capacity: Mapped[dict] = mapped_column(default=dict)
    total: Mapped[float] = mapped_column(Float, default=0.0)  # 0: no cap beyond the channels
    status: Mapped[str] = mapped_column(String(10), default="offline")
    calendar: Mapped[str] = mapped_column(String(63), default="")
    load: Mapped[dict] = mapped_column(default=dict)
    used: Mapped[float] = mapped_column(Float, default=0.0)
    last_assigned_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(BigInteger, default=lambda: _new_version(),
                                         onupdate=lambda: _new_version())
    change_seq: Mapped[int] = mapped_column(BigInteger, default=change_stamp(),
                                            onupdate=change_stamp())


def _new_version() -> int:
    """Random, not a counter: a row deleted and made again never repeats a version seen."""
    return random.getrandbits(62)


class AgentState(Base):
    """The agent's status and capacity from ``at`` on: one row each time an agent is created or
    its status, channel capacities or total change (``tickets.agent_history``), so the agents
    report knows when each agent was online and how much it could hold."""
    __tablename__ = "agent_states"
    __table_args__ = (Index("ix_agent_states_agent", "agent_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    # The history goes with the agent (no API deletes one; an operator may).
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))
    capacity: Mapped[dict] = mapped_column(default=dict)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentHour(Base):
    """An agent's online seconds and load (seconds x load / capacity while online) in one UTC
    hour (hours since the epoch), rolled up as states and assignments end
    (``tickets.agent_hours``)."""
    __tablename__ = "agent_hours"
    __table_args__ = (UniqueConstraint("agent_id", "hour"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    hour: Mapped[int] = mapped_column(BigInteger)
    online_s: Mapped[float] = mapped_column(Float, default=0.0)
    load_s: Mapped[float] = mapped_column(Float, default=0.0)


class Assignment(Base):
    """One ticket held by one agent. At most one open row (``ended_at`` null) per ticket: the
    partial unique index is the store's guarantee of "never two agents for one ticket". An
    offer (chat, Telegram with offer-and-accept) is an open row not yet ``accepted_at``; it
    holds the agent's capacity until it is accepted, declined or ``offer_expires_at`` passes."""
    __tablename__ = "assignments"
    __table_args__ = (Index("ux_assignments_open_ticket", "ticket_id", unique=True,
                            sqlite_where=text("ended_at IS NULL"),
                            postgresql_where=text("ended_at IS NULL")),
                      # an agent's open assignments (its load), whatever its history
                      Index("ix_assignments_open_agent", "agent_id",
                            sqlite_where=text("ended_at IS NULL"),
                            postgresql_where=text("ended_at IS NULL")),
                      Index("ix_assignments_ticket", "ticket_id", "started_at"),
                      # the customer's previous agent (tickets.route_rows.PREVIOUS_AGENT)
                      Index("ix_assignments_customer", "customer_id", "started_at"),
                      # the agents report's assigned tickets (tickets.agent_reports)
                      Index("ix_assignments_agent_accepted", "agent_id", "accepted_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # A copy of the ticket's customer_id (which never changes), set on insert: the customer's
    # previous agent is then the first entry of one index, whatever the customer's history.
    customer_id: Mapped[int | None] = mapped_column(BigId)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    channel: Mapped[str] = mapped_column(String(20))
    units: Mapped[float] = mapped_column(Float, default=1.0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    accepted_at: Mapped[datetime | None] = mapped_column()  # direct assignments: started_at
    offer_expires_at: Mapped[datetime | None] = mapped_column()  # offers only


class Participant(Base):
    """An address that takes part in a ticket: sender and Cc of each verified inbound message
    (docs/threading.md); with the customer's identities the only senders trusted by [#N]."""
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("ticket_id", "address"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    address: Mapped[str] = mapped_column(String(320))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("workspace_id", "dedupe_key"),
                      # agents' replies by time (tickets.agent_reports): replies only, small
                      Index("ix_messages_replies", "workspace_id", "created_at", "author",
                            sqlite_where=text(REPLY_ROWS), postgresql_where=text(REPLY_ROWS)))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(4))          # in | out | note
    channel: Mapped[str] = mapped_column(String(20))
    native_id: Mapped[str] = mapped_column(String(998), default="")
    dedupe_key: Mapped[str] = mapped_column(String(500), index=True)  # looked up alone
    from_name: Mapped[str] = mapped_column(String(300), default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    to: Mapped[list] = mapped_column(default=list)
    cc: Mapped[list] = mapped_column(default=list)
    bcc: Mapped[list] = mapped_column(default=list)  # out only: envelope, never a header
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    reply_text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list] = mapped_column(default=list)
    classification: Mapped[dict] = mapped_column(default=dict)
    raw_ref: Mapped[str] = mapped_column(String(64), default="")
    sent_at: Mapped[str] = mapped_column(String(40), default="")
    received_at: Mapped[str] = mapped_column(String(40), default="")  # stamped by the edge
    revision: Mapped[str] = mapped_column(String(40), default="")  # of the latest edit applied
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # False: threaded onto a ticket its sender takes no part in (docs/threading.md); never answered.
    sender_verified: Mapped[bool] = mapped_column(Boolean, default=True)
    # Outbound (direction out) only: queued | sent | failed | outbox, why, when, tries so far.
    account: Mapped[str] = mapped_column(String(100), default="")  # mailbox / bot / widget
    author: Mapped[str] = mapped_column(String(100), default="")   # agent of a reply or note
    delivery_status: Mapped[str] = mapped_column(String(10), default="")
    delivery_detail: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ThreadKey(Base):
    """A key that ties future messages to a ticket (Message-ID, conversation id, ...).

    ``strong`` keys belong to messages we stored; weak ones were only referenced, and match only
    when the new sender already takes part in the ticket (so two customers answering the same
    newsletter never share a ticket).
    """
    __tablename__ = "thread_keys"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    key: Mapped[str] = mapped_column(String(1000), index=True)  # looked up alone
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    strong: Mapped[bool] = mapped_column(Boolean, default=True)


class AuditEntry(Base):
    """Audit trail: every status, assignee, priority and threading change with its time (the
    table keeps its first name; ``channels.event.TicketEvent`` is the inbound event)."""
    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    old: Mapped[str] = mapped_column(String(200), default="")
    new: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarantineEntry(Base):
    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace: Mapped[str] = mapped_column(String(63), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    native_id: Mapped[str] = mapped_column(String(998), default="")
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    envelope: Mapped[dict] = mapped_column(default=dict)
    size: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column()


class ImapFolder(Base):
    """Where an IMAP poller is in one folder: UIDVALIDITY and the last UID durably enqueued."""
    __tablename__ = "imap_folders"
    __table_args__ = (UniqueConstraint("workspace", "mailbox", "folder"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace: Mapped[str] = mapped_column(String(63))
    mailbox: Mapped[str] = mapped_column(String(63))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_fetch_at: Mapped[datetime | None] = mapped_column()
    backlog: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxEntry(Base):
    """Outbound mail kept locally because no relay is configured (``SMTP_RELAY_URL`` unset):
    never dropped; the raw MIME is in the blob store, ``sent_at`` set once a relay took it."""
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace: Mapped[str] = mapped_column(String(63), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="reply")   # reply | acknowledgement
    mail_from: Mapped[str] = mapped_column(String(320), default="")
    recipients: Mapped[list] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    raw_ref: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class CannedResponse(Base):
    """A ready answer of a workspace (``tickets.canned``): ``text`` and ``html`` are templates
    with ``{name.field}`` placeholders; ``uses`` counts the replies sent with it."""
    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(default=list)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
