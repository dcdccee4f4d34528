"""What a batch needs to read from the store, read once for all of its events.

The pipeline asks three questions of every message: is it stored already (its dedupe key), who
is the sender (an identity), which of its thread keys exist; and a fourth only when a message
names other identities or unproven contacts (who has them as contacts). A view answers them
from one query per question for the whole batch and learns what the batch itself stores, so a
reply later in the batch finds the ticket its parent just opened. Messages, thread keys,
participants and the pipeline's audit entries, which it never reads back as objects, wait in
the view and are written by one multi-row INSERT per table when the batch ends (``flush``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from channels.event import TicketEvent
from store import new_rows, repo
from store.models import (Contact, Customer, Identity, Message, Participant, ThreadKey, Ticket,
                          utcnow)
from store.models import AuditEntry
from tickets import threads
from workers.ingest.identities import claimed_contacts, identity_of, linked_identities


@dataclass
class KeyRow:
    """A thread key as the pipeline sees it (stored, or stored by this batch)."""
    key: str
    ticket_id: int
    strong: bool


class BatchView:
    def __init__(self, session: Session):
        self.session = session
        self.stored: set[tuple[int, str]] = set()
        self.identities: dict[tuple[int, str, str], Identity] = {}
        self.keys: dict[tuple[int, str], KeyRow] = {}
        self.participants: set[tuple[int, str]] = set()  # added by this batch
        self.contacts: set[tuple[int, str, str]] = set()  # (customer id, kind, value)
        self.pending: dict[type, list[dict]] = defaultdict(list)
        self.customers: list[Customer] = []  # the customers of the identities read
        # stored participants read at load: (ticket id, address) among (tickets, addresses)
        self.stored_participants: set[tuple[int, str]] = set()
        self.participants_read: tuple[set[int], set[str]] = (set(), set())
        self.tickets: list[Ticket] = []  # the tickets the stored thread keys name

    @classmethod
    def load(cls, session: Session, events: list[tuple[int, TicketEvent]],
             defer_inserts: bool = False) -> "BatchView":
        """Read what ``events`` (workspace id, event) need: a query per question, and one for
        the tickets their stored thread keys name. With ``defer_inserts`` the batch's new
        customers, identities and tickets are written together when it ends
        (``store.new_rows``)."""
        view = cls(session)
        dedupe = {threads.bounded(e.dedupe_key) for _, e in events}
        rows = session.execute(select(Message.workspace_id, Message.dedupe_key)
                               .where(Message.dedupe_key.in_(dedupe)))
        view.stored = {(workspace_id, key) for workspace_id, key in rows}
        others = {value for _, e in events  # proven links and unproven claims
                  for _, value in linked_identities(e) + claimed_contacts(e)}
        values = {identity_of(e)[1] for _, e in events} | others
        for found in session.scalars(select(Identity).where(Identity.value.in_(values))):
            view.identities[(found.workspace_id, found.kind, found.value)] = found
        owners = {found.customer_id for found in view.identities.values()}
        if owners:  # held here, so the session's (weak) identity map keeps them for get()
            view.customers = session.scalars(select(Customer)
                                             .where(Customer.id.in_(owners))).all()
        keys = {k for _, e in events for k in threads.message_keys(e)}
        for row in session.scalars(select(ThreadKey).where(ThreadKey.key.in_(keys))):
            view.keys[(row.workspace_id, row.key)] = KeyRow(row.key, row.ticket_id, row.strong)
        view._load_tickets({k.ticket_id for k in view.keys.values()})
        view._load_participants({k.ticket_id for k in view.keys.values()},
                                {a for _, e in events for a in _addresses(e)})
        if others:  # contacts that may be claimed again, or proven now
            rows = session.execute(select(Contact.customer_id, Contact.kind, Contact.value)
                                   .where(Contact.value.in_(others)))
            view.contacts = {tuple(row) for row in rows}
        if defer_inserts:
            new_rows.start(session, view._new_row_bounds(events))
        return view

    def _load_tickets(self, ticket_ids: set[int]) -> None:
        """The tickets the batch's stored thread keys name, in one query (a reply finds its
        ticket in the session); held here, as the session's identity map is weak."""
        if ticket_ids:
            self.tickets = self.session.scalars(select(Ticket)
                                                .where(Ticket.id.in_(ticket_ids))).all()

    def _new_row_bounds(self, events: list[tuple[int, TicketEvent]]) -> dict[type, int]:
        """At most how many customers, identities and tickets the batch can create: a
        customer per sender and an identity per proven identity that the store lacks, a
        ticket per event."""
        customers = identities = 0
        for workspace_id, event in events:
            own = identity_of(event)
            if own[1] and (workspace_id, *own) not in self.identities:
                customers += 1
            identities += sum(1 for kind, value in [own, *linked_identities(event)]
                              if value and (workspace_id, kind, value) not in self.identities)
        return {Customer: customers, Identity: identities, Ticket: len(events)}

    def is_stored(self, workspace_id: int, dedupe_key: str) -> bool:
        return (workspace_id, dedupe_key) in self.stored

    def identity(self, workspace_id: int, kind: str, value: str) -> Identity | None:
        return self.identities.get((workspace_id, kind, value))

    def add_identity(self, found: Identity) -> None:
        self.identities[(found.workspace_id, found.kind, found.value)] = found

    def has_contact(self, customer_id: int, kind: str, value: str) -> bool:
        return (customer_id, kind, value) in self.contacts

    def add_contact(self, found: Contact) -> None:
        self.contacts.add((found.customer_id, found.kind, found.value))

    def drop_contact(self, customer_id: int, kind: str, value: str) -> None:
        """A contact the customer has now proven: the identity replaces it."""
        if (customer_id, kind, value) in self.contacts:
            self.contacts.discard((customer_id, kind, value))
            repo.drop_contact(self.session, customer_id, kind, value)

    def thread_keys(self, workspace_id: int, keys: list[str]) -> dict[str, KeyRow]:
        return {k: self.keys[(workspace_id, k)] for k in keys if (workspace_id, k) in self.keys}

    def add_message(self, row: dict) -> None:
        self.stored.add((row["workspace_id"], row["dedupe_key"]))
        self.pending[Message].append(row)

    def pending_message(self, workspace_id: int, dedupe_key: str) -> dict | None:
        """The row of a message this batch stores and has not written yet."""
        return next((row for row in self.pending[Message] if row["workspace_id"] == workspace_id
                     and row["dedupe_key"] == dedupe_key), None)

    def add_thread_keys(self, workspace_id: int, ticket_id: int, keys: dict[str, bool]) -> None:
        """Record ``keys`` (key -> strong); a weak key seen as a real message becomes strong."""
        for key, strong in keys.items():
            found = self.keys.get((workspace_id, key))
            if found is None:
                self.keys[(workspace_id, key)] = KeyRow(key, ticket_id, strong)
                self.pending[ThreadKey].append({"workspace_id": workspace_id, "key": key,
                                                "ticket_id": ticket_id, "strong": strong})
            elif strong and not found.strong and found.ticket_id == ticket_id:
                found.strong = True
                self._upgrade(workspace_id, key)

    def move_thread_key(self, workspace_id: int, key: str, ticket_id: int) -> None:
        """Point an existing key at another ticket (a conversation that moved on)."""
        repo.flush(self.session)
        self.session.execute(update(ThreadKey).where(ThreadKey.workspace_id == workspace_id,
                                                     ThreadKey.key == key)
                             .values(ticket_id=ticket_id))
        for row in self.pending[ThreadKey]:
            if (row["workspace_id"], row["key"]) == (workspace_id, key):
                row["ticket_id"] = ticket_id
        if (workspace_id, key) in self.keys:
            self.keys[(workspace_id, key)].ticket_id = ticket_id

    def _upgrade(self, workspace_id: int, key: str) -> None:
        for row in self.pending[ThreadKey]:
            if (row["workspace_id"], row["key"]) == (workspace_id, key):
                row["strong"] = True
                return
        self.session.execute(update(ThreadKey).where(ThreadKey.workspace_id == workspace_id,
                                                     ThreadKey.key == key).values(strong=True))

    def _load_participants(self, ticket_ids: set[int], addresses: set[str]) -> None:
        """Which of the batch's senders and copied addresses take part in the tickets its
        thread keys name already (one query): most replies need no query of their own."""
        if not ticket_ids or not addresses:
            return
        rows = self.session.execute(select(Participant.ticket_id, Participant.address).where(
            Participant.ticket_id.in_(ticket_ids), Participant.address.in_(addresses)))
        self.stored_participants = {(ticket_id, address) for ticket_id, address in rows}
        self.participants_read = (ticket_ids, addresses)

    def _participants_among(self, ticket_id: int, wanted: list[str]) -> set[str]:
        tickets, addresses = self.participants_read
        if ticket_id in tickets and addresses.issuperset(wanted):
            return {a for a in wanted if (ticket_id, a) in self.stored_participants}
        return repo.participants_among(self.session, ticket_id, wanted)

    def is_participant(self, ticket_id: int, address: str) -> bool:
        """See ``store.repo.is_participant``; also counts the participants of this batch."""
        if (ticket_id, address.lower()) in self.participants:
            return True
        new_rows.write(self.session)  # it reads identities and tickets, this batch's too
        return repo.is_participant(self.session, ticket_id, address)

    def add_participants(self, ticket_id: int, addresses: list[str], new_ticket: bool) -> None:
        wanted = [a for a in dict.fromkeys(addresses) if a
                  and (ticket_id, a) not in self.participants]
        known = set() if new_ticket or not wanted else self._participants_among(ticket_id,
                                                                                  wanted)
        for address in wanted:
            if address not in known:
                self.participants.add((ticket_id, address))
                self.pending[Participant].append({"ticket_id": ticket_id, "address": address})

    def add_event(self, ticket_id: int, kind: str, old: str = "", new: str = "",
                  at=None) -> None:
        """An audit-trail entry written by the pipeline itself (actor: system)."""
        self.pending[AuditEntry].append({"ticket_id": ticket_id, "kind": kind, "old": old,
                                          "new": new, "actor": "system", "at": at or utcnow()})

    def flush(self) -> None:
        """Write the waiting rows: one multi-row INSERT per table."""
        repo.flush(self.session)
        self.session.info.pop(new_rows.KEY, None)
        for model in (Message, ThreadKey, Participant, AuditEntry):
            if self.pending[model]:
                self.session.execute(insert(model), self.pending.pop(model))


def _addresses(event: TicketEvent) -> list[str]:
    """The addresses a message may add as participants (``lifecycle.participants``' source)."""
    return [a.address.lower() for a in (event.sender, *event.cc) if a.address]
