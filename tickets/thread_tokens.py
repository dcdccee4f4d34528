"""Threading rules by signed tokens (docs/threading.md), for ``tickets.threads.find_ticket``.

Our outbound mail carries a token signed for its ticket (``channels.tokens``) in three places:
the reply address ``support+<token>@``, our Message-ID ``<tg.<token>.…@>``, and a hidden body
marker. The rules here have the signature of the rules in ``tickets.threads`` and return the
ticket a verified token names, or None. A forged, altered or foreign token names nothing, and
the next rule decides. Order in ``find_ticket``: ``by_reply_token`` -> ``by_references`` ->
``by_signed_reference`` -> ``by_body_marker`` -> ``by_subject_token`` -> ``by_conversation``.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from channels import tokens
from channels.event import TicketEvent
from config import signing
from store import repo
from store.models import Ticket, Workspace


def ticket_of_token(session: Session, workspace: Workspace, token: str,
                    key: str | None = None) -> Ticket | None:
    """The ticket ``token`` names in ``workspace`` when its signature holds."""
    if not token:
        return None
    number = tokens.verify(key or signing.signing_keys(), workspace.slug, token)
    return repo.ticket_by_number(session, workspace.id, number) if number is not None else None


def by_reply_token(session: Session, workspace: Workspace, event: TicketEvent,
                   view) -> Ticket | None:
    """Mail to ``support+<token>@`` (the Reply-To of our mail)."""
    return ticket_of_token(session, workspace, event.thread.reply_token)


def by_signed_reference(session: Session, workspace: Workspace, event: TicketEvent,
                        view) -> Ticket | None:
    """In-Reply-To / References naming one of our Message-IDs whose thread key is unknown
    (sent before the key was stored, or from a restored backup): the token in the id."""
    for message_id in event.thread.in_reply_to + list(reversed(event.thread.references)):
        ticket = ticket_of_token(session, workspace, tokens.token_of_message_id(message_id))
        if ticket is not None:
            return ticket
    return None


def by_body_marker(session: Session, workspace: Workspace, event: TicketEvent,
                   view) -> Ticket | None:
    """The hidden ``[tg:<token>]`` / ``<!-- tg:<token> -->`` marker, quoted in the answer."""
    return ticket_of_token(session, workspace, event.thread.body_marker)
