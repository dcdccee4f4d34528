"""One OS process of the concurrency test: its own engine, the same tickets and agents as the
others, routing, patching (resolve, reassign by hand, unassign), answering offers (accept,
decline) and toggling agents' presence in random order. Importable at module level so
``multiprocessing`` can spawn it."""
from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from config.workspaces import parse_config
from store.db import make_engine, session_factory
from store.models import Assignment, Ticket
from tickets import agents, assign, offers, changes as ticket_changes
from tickets.offers import OfferRefused
from tickets.changes import ChangeRefused

MAX_ATTEMPTS = 10  # a transaction aborted by a deadlock is retried, as an RQ job would be


def work(url: str, config_data: dict, ticket_ids: list[int], agent_specs: dict, seed: int,
         churn: int, barrier, results) -> None:
    config = parse_config(config_data).workspace("demo")
    sessions = session_factory(make_engine(url))
    worker = Worker(sessions, config, agent_specs, random.Random(seed))
    barrier.wait()
    for ticket_id in worker.rnd.sample(ticket_ids, len(ticket_ids)):
        worker.transaction(lambda s, t=ticket_id: assign.route(s, config, t))
    for _ in range(churn):
        worker.rnd.choice((worker.resolve, worker.reassign, worker.unassign, worker.blink,
                           worker.answer, worker.answer))(worker.rnd.choice(ticket_ids))
    results.put(dict(worker.stats))


class Worker:
    def __init__(self, sessions, config, agent_specs: dict, rnd: random.Random):
        self.sessions, self.config, self.specs, self.rnd = sessions, config, agent_specs, rnd
        self.workspace_id = None
        self.stats: Counter = Counter()

    def transaction(self, action):
        """Run ``action(session)`` in a transaction, retried when PostgreSQL aborts it."""
        for _ in range(MAX_ATTEMPTS):
            try:
                with self.sessions.begin() as session:
                    return action(session)
            except OperationalError as exc:
                self.stats[f"retried: {type(exc.orig).__name__}"] += 1
        raise RuntimeError("transaction failed too often")

    def patch(self, ticket_id: int, changes: dict) -> None:
        def change(session):
            ticket = session.get(Ticket, ticket_id)
            self.workspace_id = ticket.workspace_id
            return ticket_changes.patch_ticket(session, self.config, ticket, changes, "test")
        try:
            done = self.transaction(change)
        except ChangeRefused as exc:
            self.stats[exc.code] += 1
            return
        self.stats["patched"] += 1
        self.react(done.reactions)

    def react(self, reactions) -> None:
        for reaction in reactions:
            for _ in range(MAX_ATTEMPTS):
                try:
                    reaction(self.sessions)
                    break
                except OperationalError as exc:
                    self.stats[f"retried: {type(exc.orig).__name__}"] += 1

    def resolve(self, ticket_id: int) -> None:
        self.patch(ticket_id, {"status": "resolved"})

    def reassign(self, ticket_id: int) -> None:
        self.patch(ticket_id, {"status": "open", "assignee": self.rnd.choice(list(self.specs))})

    def unassign(self, ticket_id: int) -> None:
        self.patch(ticket_id, {"status": "open", "assignee": None})

    def blink(self, ticket_id: int) -> None:
        """An agent goes away (its tickets re-routed) and comes back (it takes waiting work)."""
        if self.workspace_id is None:
            self.workspace_id = self.transaction(lambda s: s.get(Ticket, ticket_id).workspace_id)
        key = self.rnd.choice(list(self.specs))
        for status in ("away", "online"):
            spec = {**self.specs[key], "status": status}
            _row, _created, reaction = self.transaction(
                lambda s: agents.put_agent(s, self.config, self.workspace_id, key, spec))
            self.react([reaction] if reaction else [])
        self.stats["blinked"] += 1

    def answer(self, ticket_id: int) -> None:
        """The agent a ticket is offered to accepts or declines: ``ticket_id`` if it is
        offered, else one of the tickets on offer now (so answers happen whenever offers
        exist, not only when a random pick lands on one of the few)."""
        def act(session):
            ticket = session.get(Ticket, ticket_id)
            found = offers.pending_offer(session, ticket)
            if found is None:
                ticket = self.offered_ticket(session)
                found = ticket and offers.pending_offer(session, ticket)
            if not found:
                return None
            if self.rnd.random() < 0.5:
                offers.accept(session, ticket, found[1].key)
                return []
            return offers.decline(session, self.config, ticket, found[1].key)
        try:
            after = self.transaction(act)
        except OfferRefused as exc:  # answered or withdrawn by another process meanwhile
            self.stats[exc.code] += 1
            return
        self.stats["answered" if after is not None else "not_offered"] += 1
        self.react(after or [])

    def offered_ticket(self, session) -> Ticket | None:
        ids = sorted(session.scalars(select(Assignment.ticket_id).where(
            Assignment.ended_at.is_(None), Assignment.accepted_at.is_(None))))
        return session.get(Ticket, self.rnd.choice(ids)) if ids else None
