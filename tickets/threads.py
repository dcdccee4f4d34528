"""Threading: which existing ticket an inbound event belongs to (docs/threading.md).

First match wins: the signed reply address ``support+<token>@`` -> In-Reply-To / References
against stored Message-IDs (strong keys always match; keys we only saw referenced match only a
sender who takes part in that ticket), then the token inside one of our own Message-IDs -> the
signed hidden body marker -> subject token ``[#N]`` from a participant -> channel conversation
id. The token rules live in ``tickets.thread_tokens``.

Threading decides the ticket, not who the sender is: only a conversation id (chat, Telegram)
proves that; after any other rule the pipeline checks that the sender takes part in the
ticket (``pipeline.sender_takes_part``). The rules and proofs: docs/threading.md.
"""
from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from channels.event import TicketEvent
from store import repo
from store.models import Ticket, Workspace
from tickets import thread_tokens


# Channels whose sender address is typed by whoever submits (the contact form): rules that
# trust a participant's address (subject token, weak thread keys) never match for them.
UNPROVEN_SENDER_CHANNELS = ("form",)
# Rules whose match proves the sender belongs to the ticket: the conversation is the customer.
SENDER_PROVING_RULES = ("by_conversation",)


def message_keys(event: TicketEvent) -> list[str]:
    """Thread keys of the message itself and of everything it refers to."""
    keys = [mid_key(event.native_id)] if event.native_id and event.channel == "email" else []
    keys += [mid_key(m) for m in referenced_ids(event)]
    if event.thread.conversation_id:
        keys.append(conversation_key(event))
    return list(dict.fromkeys(keys))


def referenced_ids(event: TicketEvent) -> list[str]:
    """Message-IDs this message refers to; a bounce refers to the mail that bounced."""
    bounced = event.classification.original_message_id
    return event.thread.in_reply_to + ([bounced] if bounced else []) + event.thread.references


def mid_key(message_id: str) -> str:
    return bounded("mid:" + message_id.strip().strip("<>").lower())


def conversation_key(event: TicketEvent) -> str:
    return bounded(f"conv:{event.channel}:{event.account}:{event.thread.conversation_id}")


MAX_KEY_LENGTH = 400  # longer keys (junk Message-IDs) are stored as their SHA-256


def bounded(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return key.split(":", 1)[0] + ":sha256:" + hashlib.sha256(key.encode()).hexdigest()


def find_ticket(session: Session, workspace: Workspace, event: TicketEvent, view):
    """Return ``(ticket or None, rule that matched)``; ``view`` (a ``workers.ingest.view.BatchView``)
    knows the stored thread keys and participants. Merged tickets resolve to the survivor."""
    for rule in (thread_tokens.by_reply_token, by_references, thread_tokens.by_signed_reference,
                 thread_tokens.by_body_marker, by_subject_token, by_conversation):
        ticket = rule(session, workspace, event, view)
        if ticket is not None:
            return repo.survivor(session, ticket), rule.__name__
    return None, ""


def by_references(session: Session, workspace: Workspace, event: TicketEvent,
                  view) -> Ticket | None:
    refs = referenced_ids(event)
    direct = len(refs) - len(event.thread.references)  # In-Reply-To first, then newest ref
    wanted = [mid_key(m) for m in refs[:direct] + list(reversed(refs[direct:]))]
    if event.native_id and event.channel == "email":
        wanted.append(mid_key(event.native_id))  # a child that arrived first referenced us
    known = view.thread_keys(workspace.id, wanted)
    for key in dict.fromkeys(wanted):
        hit = known.get(key)
        if hit and (hit.strong or sender_is_participant(view, hit.ticket_id, event)):
            return session.get(Ticket, hit.ticket_id)
    return None


def sender_is_participant(view, ticket_id: int, event: TicketEvent) -> bool:
    """Whether the event's sender takes part in the ticket, for the rules that trust
    participants only; never for a channel whose sender address nobody proved."""
    if event.channel in UNPROVEN_SENDER_CHANNELS:
        return False
    return view.is_participant(ticket_id, event.sender.address)


def by_subject_token(session: Session, workspace: Workspace, event: TicketEvent,
                     view) -> Ticket | None:
    number = event.thread.subject_number
    if number is None:
        return None
    ticket = repo.ticket_by_number(session, workspace.id, number)
    if ticket and sender_is_participant(view, ticket.id, event):
        return ticket
    return None


def by_conversation(session: Session, workspace: Workspace, event: TicketEvent,
                    view) -> Ticket | None:
    if not event.thread.conversation_id:
        return None
    hit = view.thread_keys(workspace.id, [conversation_key(event)]).get(conversation_key(event))
    return session.get(Ticket, hit.ticket_id) if hit else None
