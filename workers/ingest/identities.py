"""Who an event says its sender is: the sender's identity, the identities the channel proves
are the sender's too, and the contacts nobody proved.

Pure functions of the event, shared by the pipeline steps (``workers.ingest.pipeline``) and the
batch's read-ahead (``workers.ingest.view``), which asks the store for all of them at once.
"""
from __future__ import annotations

from channels.event import TicketEvent
from store import repo

LINK_KINDS = ("email", "phone", "telegram", "chat")


def identity_of(event: TicketEvent) -> tuple[str, str]:
    return repo.identity_key(event.sender.address)


def linked_identities(event: TicketEvent) -> list[tuple[str, str]]:
    """The identities the channel proves are the sender's too (``event.links``)."""
    return _identities(event.links)


def claimed_contacts(event: TicketEvent) -> list[tuple[str, str]]:
    """Ways to reach the sender that nobody proved (``event.contacts``)."""
    return _identities(event.contacts)


def _identities(items: list[str]) -> list[tuple[str, str]]:
    found = []
    for item in items:
        kind, _, value = item.partition(":")
        if kind in LINK_KINDS and value:
            found.append((kind, value.lower() if kind == "email" else value))
    return list(dict.fromkeys(found))
