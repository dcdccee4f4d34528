"""The ingest pipeline: one normalized event through the steps, inside one transaction.

Read it top to bottom: ``STEPS``. A step stops processing by raising ``Discard`` (nothing to do,
e.g. a duplicate) or ``Quarantine`` (kept with its raw payload and reason, replayable).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels.event import TicketEvent
from config.workspaces import WorkspaceConfig
from store import repo
from store.models import Customer, Ticket, Workspace
from workers.ingest import edits, lifecycle, phases, rules_step
from workers.ingest.identities import claimed_contacts, identity_of, linked_identities
from tickets import threads
from workers.ingest.view import BatchView


class Discard(Exception):
    """Nothing to store: the event is a duplicate of one already stored."""


class Edited(Discard):
    """The event is a newer revision of a stored message, which it replaced."""


class Quarantine(Exception):
    """The event cannot become a ticket message; keep it with ``reason`` for a later replay."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass
class Context:
    """What the steps learn about one event as it moves through the pipeline."""
    session: Session
    event: TicketEvent
    config: WorkspaceConfig
    view: BatchView
    workspace: Workspace | None = None
    customer: Customer | None = None
    ticket: Ticket | None = None
    thread_rule: str = ""
    created: bool = False
    created_event: tuple | None = None  # the new ticket's audit entry, written by ``store``
    # False when the ticket was found by a rule that does not prove who the sender is and the
    # sender is no participant of it (docs/threads.md): kept, flagged, never answered.
    sender_verified: bool = True
    language: str | None = None  # the event's language if detected already (None: not yet)

    @property
    def automatic(self) -> bool:
        return self.event.classification.kind in AUTOMATIC


AUTOMATIC = ("auto_reply", "out_of_office", "bounce", "complaint")


def dedupe(ctx: Context) -> None:
    ctx.event.dedupe_key = threads.bounded(ctx.event.dedupe_key)
    ctx.workspace = repo.workspace_row(ctx.session, ctx.config.slug, ctx.config.name)
    if ctx.view.is_stored(ctx.workspace.id, ctx.event.dedupe_key):
        if ctx.event.revision and edits.apply_edit(ctx):
            raise Edited(ctx.event.dedupe_key)
        raise Discard(ctx.event.dedupe_key)


def conversation_keys(event: TicketEvent) -> list[str]:
    """Keys the caller locks so no two workers handle one conversation (or customer) at once."""
    hints = event.thread
    keys = [f"dedupe:{event.dedupe_key}", "identity:%s:%s" % identity_of(event)]
    keys += ["identity:%s:%s" % link for link in linked_identities(event)]
    keys += threads.message_keys(event)
    if hints.subject_number is not None:
        keys.append(f"number:{hints.subject_number}")
    return keys


def classify(ctx: Context) -> None:
    kind = ctx.event.classification.kind
    if kind == "own_loop":
        raise Quarantine("own_loop", ctx.event.classification.reason)


def identify(ctx: Context) -> None:
    """The sender's customer: by the sender's identity, else by an identity the channel proves
    is theirs too (``event.links``); a new customer otherwise. Every proven identity that
    belongs to nobody yet is added to the customer; claims nobody proved (``event.contacts``)
    are only kept as the customer's unverified contacts and never find anyone."""
    sender = ctx.event.sender
    kind, value = identity_of(ctx.event)
    if not value:
        return
    wanted = [(kind, value)] + linked_identities(ctx.event)
    found = [ctx.view.identity(ctx.workspace.id, k, v) for k, v in wanted]
    owner = next((f for f in found if f is not None), None)
    if owner is not None:
        ctx.customer = ctx.session.get(Customer, owner.customer_id)
        if sender.name and not ctx.customer.name:
            ctx.customer.name = sender.name
    elif ctx.automatic:
        return
    else:
        ctx.customer, new = repo.create_customer(ctx.session, ctx.workspace.id, sender.name,
                                                 kind, value)
        ctx.view.add_identity(new)
        found[0] = new
    for (k, v), known in zip(wanted, found):
        if known is None:
            ctx.view.add_identity(repo.add_identity(ctx.session, ctx.customer, k, v))
            ctx.view.drop_contact(ctx.customer.id, k, v)
    keep_contacts(ctx)


def keep_contacts(ctx: Context) -> None:
    """The event's unproven claims, as unverified contacts of the sender's customer (once,
    and not when the customer has proven that identity already)."""
    for kind, value in claimed_contacts(ctx.event):
        proven = ctx.view.identity(ctx.workspace.id, kind, value)
        if proven is not None and proven.customer_id == ctx.customer.id:
            continue
        if not ctx.view.has_contact(ctx.customer.id, kind, value):
            ctx.view.add_contact(repo.add_contact(ctx.session, ctx.customer, kind, value))


def thread(ctx: Context) -> None:
    ctx.ticket, ctx.thread_rule = threads.find_ticket(ctx.session, ctx.workspace, ctx.event,
                                                        ctx.view)
    if ctx.ticket is None and ctx.automatic:
        raise Quarantine("automatic", f"{ctx.event.classification.kind} that belongs to no "
                         f"ticket ({ctx.event.classification.reason})")
    if ctx.ticket is not None:
        ctx.sender_verified = sender_takes_part(ctx)


def sender_takes_part(ctx: Context) -> bool:
    """Whether the ticket may trust the sender (docs/threads.md): the conversation itself
    is the proof on chat and Telegram (replies go to it, not to an address); elsewhere the
    sender must be the ticket's customer or one of its participants."""
    if ctx.thread_rule in threads.SENDER_PROVING_RULES:
        return True
    if ctx.customer is not None and ctx.customer.id == ctx.ticket.customer_id:
        return True  # the common case, known without a query
    return ctx.view.is_participant(ctx.ticket.id, ctx.event.sender.address)


def apply_rules(ctx: Context) -> None:
    """The rules step, the costliest under the store's lock: timed apart (``phases``)."""
    with phases.phase("rules"):
        rules_step.apply_rules(ctx)


STEPS = (dedupe, classify, identify, thread, lifecycle.apply_lifecycle, apply_rules,
         lifecycle.store)


def run(ctx: Context) -> Context:
    for step in STEPS:
        step(ctx)
    return ctx
