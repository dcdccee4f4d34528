"""Who gets an agent's email reply: To the customer, Cc the other participants (reply-all),
or whom the agent named (``to``, ``cc``, ``bcc``).

By default (``outbound.reply_all``, on unless the workspace turns it off) the Cc are the To and
Cc of the customer's latest verified inbound mail (``actions.last_inbound``), once each, minus:
our own addresses (the addresses and domains of every workspace, plus-addressing included,
and the sender), the reply's To, addresses flagged as bouncing, and unverified senders (an address
that wrote to this ticket without being verified and is no participant of it, or that is
only an unproven contact of a customer and no identity). Addresses an agent names are taken
as named, once each (To before Cc before Bcc); the API refuses our own (a mail loop). Bcc is
only the envelope's, never a header.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.outbound import of as outbound_of
from config.workspaces import WorkspaceConfig
from store import repo
from store.models import Contact, Identity, Message, Ticket


@dataclass
class Recipients:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)


def own(workspaces, sender: str, address: str) -> bool:
    """Mail to ``address`` comes back to us: one of ``workspaces`` (all of the deployment's:
    a reply never goes to another of our workspaces either) owns it, or it is our sender."""
    return address.lower() == sender.lower() or any(w.owns(address) for w in workspaces)


def chosen(to: list[str], cc: list[str], bcc: list[str]) -> Recipients:
    """Named recipients, lowercased, each in the first list naming it."""
    seen: set[str] = set()
    lists = []
    for addresses in (to, cc, bcc):
        kept = []
        for address in (a.lower() for a in addresses):
            if address not in seen:
                seen.add(address)
                kept.append(address)
        lists.append(kept)
    return Recipients(*lists)


def reply_all(session: Session, config: WorkspaceConfig, ticket: Ticket, last: Message | None,
              to: list[str], sender: str, workspaces=()) -> list[str]:
    """The default Cc of a reply To ``to`` answering ``last``; ``workspaces``: all of ours
    (default: ``config``'s alone)."""
    workspaces = workspaces or (config,)
    if last is None or not outbound_of(config).reply_all:
        return []
    skip = {a.lower() for a in to}
    candidates = []
    for address in [*(last.to or []), *(last.cc or [])]:
        address = address.strip().lower()
        if address and "@" in address and address not in skip and not own(workspaces, sender,
                                                                          address):
            skip.add(address)
            candidates.append(address)
    if not candidates:
        return []
    refused = _bouncing(session, ticket.workspace_id, candidates)
    refused |= _unverified(session, ticket, candidates)
    return [a for a in candidates if a not in refused]


def _bouncing(session: Session, workspace_id: int, addresses: list[str]) -> set[str]:
    return set(session.scalars(select(Identity.value).where(
        Identity.workspace_id == workspace_id, Identity.kind == "email",
        Identity.value.in_(addresses), Identity.bouncing.is_(True))))


def _unverified(session: Session, ticket: Ticket, addresses: list[str]) -> set[str]:
    """Senders the ticket never verified, and addresses known only as unproven contacts."""
    strangers = set(session.scalars(select(Message.from_address).where(
        Message.ticket_id == ticket.id, Message.direction == "in",
        Message.sender_verified.is_(False), Message.from_address.in_(addresses))))
    if strangers:  # verified later (a participant now): no stranger any more
        strangers -= repo.participants_among(session, ticket.id, list(strangers))
    claimed = set(session.scalars(select(Contact.value).where(
        Contact.workspace_id == ticket.workspace_id, Contact.kind == "email",
        Contact.value.in_(addresses))))
    proven = set(session.scalars(select(Identity.value).where(
        Identity.workspace_id == ticket.workspace_id, Identity.kind == "email",
        Identity.value.in_(claimed)))) if claimed else set()
    return strangers | (claimed - proven)
