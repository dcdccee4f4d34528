"""Bulk load of a big store for ``bench/store_scale.py``: rows straight into the tables.

N tickets with 1 to 6 messages each (about 3 on average), N/3 customers with an email
identity, a thread key per email message, a participant per email ticket and two audit
entries per ticket, generated in chunks and written with SQLite ``executemany`` (one prepared
statement, one transaction per chunk) or PostgreSQL ``COPY``, with the indexes, the full-text
index and the foreign key checks left for after the rows (``bench/store_writers.py``). Nothing
goes through the pipeline.
"""
from __future__ import annotations

import hashlib
import random
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bench.store_corpus import Corpus
from bench.store_writers import PostgresWriter, SqliteWriter
from store.models import (AuditEntry, Customer, Identity, Message, Participant, Ticket, ThreadKey,
                          Workspace)

SLUG = "bench"
CHUNK = 10_000            # tickets generated and written per transaction
AGENTS = 200              # assignee keys a000..a199
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
SPAN = timedelta(days=3 * 365)  # the tickets' creation times spread over three years
STATUSES = (("closed", 50), ("resolved", 20), ("open", 12), ("new", 5), ("answered", 6),
            ("postponed", 4), ("spam", 2), ("deleted", 1))
CHANNELS = (("email", 70), ("chat", 12), ("telegram", 10), ("form", 8))
MESSAGE_COUNTS = ((1, 25), (2, 20), (3, 20), (4, 15), (5, 10), (6, 10))
TABLES = (Workspace, Customer, Identity, Ticket, Message, ThreadKey, Participant, AuditEntry)


def pick(rng: random.Random, weighted) -> object:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def customer_email(k: int) -> str:
    return f"customer{k}@example-{k % 97}.net"


class Generator:
    """Rows of a store of ``tickets`` tickets, chunk by chunk (ids are given explicitly)."""

    def __init__(self, tickets: int, seed: int = 5):
        self.total, self.rng, self.corpus = tickets, random.Random(seed), Corpus(seed)
        self.customers = max(1, tickets // 3)
        self.message_id = self.key_id = self.participant_id = self.event_id = 0

    def workspace_rows(self) -> dict:
        customers = [{"id": k + 1, "workspace_id": 1, "name": f"Customer {k}", "tags": [],
                      "created_at": START} for k in range(self.customers)]
        identities = [{"id": k + 1, "workspace_id": 1, "customer_id": k + 1, "kind": "email",
                       "value": customer_email(k)} for k in range(self.customers)]
        return {Workspace: [{"id": 1, "slug": SLUG, "name": "Bench",
                             "last_ticket_number": self.total}],
                Customer: customers, Identity: identities}

    def chunk(self, first: int, count: int) -> dict:
        rows = {Ticket: [], Message: [], ThreadKey: [], Participant: [], AuditEntry: []}
        for index in range(first, first + count):
            self.ticket(index, rows)
        texts = self.corpus.texts([row["ticket_id"] - 1 for row in rows[Message]])
        for row, body in zip(rows[Message], texts):
            row["text"] = body
        return rows

    def ticket(self, index: int, rows: dict) -> None:
        rng, ticket_id = self.rng, index + 1
        created = START + SPAN * (index / self.total)
        status, channel = pick(rng, STATUSES), pick(rng, CHANNELS)
        customer = rng.randrange(self.customers)
        subject = self.corpus.subject(index)
        count = pick(rng, MESSAGE_COUNTS)
        rows[Ticket].append({
            "id": ticket_id, "workspace_id": 1, "number": ticket_id, "subject": subject,
            "status": status, "channel": channel, "customer_id": customer + 1,
            "assignee": None if status == "new" else f"a{rng.randrange(AGENTS):03d}",
            "message_count": count, "created_at": created, "updated_at": created,
            "closed_at": created if status == "closed" else None})
        for position in range(count):
            self.message(index, position, channel, customer, subject, created, rows)
        if channel == "email":
            self.participant_id += 1
            rows[Participant].append({"id": self.participant_id, "ticket_id": ticket_id,
                                      "address": customer_email(customer)})
        for kind, old, new in (("created", "", "new"), ("status", "new", status)):
            self.event_id += 1
            rows[AuditEntry].append({"id": self.event_id, "ticket_id": ticket_id, "kind": kind,
                                      "old": old, "new": new, "actor": "system", "at": created})

    def message(self, index: int, position: int, channel: str, customer: int, subject: str,
                created: datetime, rows: dict) -> None:
        self.message_id += 1
        inbound = position % 2 == 0
        native = (f"<{index}.{position}.{self.message_id}@mail.example-{customer % 97}.net>"
                  if channel == "email" else f"{channel}-{index}-{position}")
        at = created + timedelta(minutes=30 * position)
        rows[Message].append({
            "id": self.message_id, "workspace_id": 1, "ticket_id": index + 1,
            "direction": "in" if inbound else "out", "channel": channel, "native_id": native,
            "dedupe_key": dedupe_key(native), "subject": subject if position == 0 else
            "Re: " + subject, "from_address": customer_email(customer) if inbound else "",
            "received_at": at.isoformat(), "created_at": at,
            "author": "" if inbound else "a001", "delivery_status": "" if inbound else "sent"})
        if channel == "email" or position == 0:
            self.key_id += 1
            key = (f"mid:{native.strip('<>').lower()}" if channel == "email"
                   else f"conv:{channel}:bench:{index}")
            rows[ThreadKey].append({"id": self.key_id, "workspace_id": 1, "key": key,
                                    "ticket_id": index + 1, "strong": True})


def dedupe_key(native: str) -> str:
    return f"mid:{native}:{hashlib.sha256(native.encode()).hexdigest()[:16]}"


def fill(engine: Engine, tickets: int, progress=print) -> float:
    """Load a store of ``tickets`` tickets into an empty migrated database; returns seconds."""
    started = time.monotonic()
    postgres = engine.dialect.name == "postgresql"
    writer = (PostgresWriter if postgres else SqliteWriter)(engine, TABLES)
    generator = Generator(tickets)
    writer.write(generator.workspace_rows())
    for first in range(0, tickets, CHUNK):
        writer.write(generator.chunk(first, min(CHUNK, tickets - first)))
        if (first // CHUNK) % 10 == 9:
            progress(f"  {first + CHUNK:,} tickets written, {time.monotonic() - started:.0f} s")
    writer.finish(lambda line: progress(f"{line}, {time.monotonic() - started:.0f} s"))
    return time.monotonic() - started


def stored_tickets(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Ticket))
