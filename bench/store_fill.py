"""Bulk load of a big store for ``bench/store_scale.py``: rows straight into the tables.

N tickets with 1 to 6 messages each (about 3 on average), N/3 customers with an email
identity, a thread key per email message, a participant per email ticket and two audit
entries per ticket, generated in chunks and written with SQLite ``executemany`` (one prepared
statement, one transaction per chunk) or PostgreSQL ``COPY``. Nothing goes through the
pipeline: a million tickets load in minutes instead of hours. The search index is kept up to
date by the store itself while loading (SQLite triggers, PostgreSQL's generated column), so
loading also measures its cost.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from bench.store_corpus import Corpus
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
            "text": self.corpus.text(index), "received_at": at.isoformat(), "created_at": at,
            "author": "" if inbound else "a001", "delivery_status": "" if inbound else "sent"})
        if channel == "email" or position == 0:
            self.key_id += 1
            key = (f"mid:{native.strip('<>').lower()}" if channel == "email"
                   else f"conv:{channel}:bench:{index}")
            rows[ThreadKey].append({"id": self.key_id, "workspace_id": 1, "key": key,
                                    "ticket_id": index + 1, "strong": True})


def dedupe_key(native: str) -> str:
    return f"mid:{native}:{hashlib.sha256(native.encode()).hexdigest()[:16]}"


SECONDARY_INDEXES = """SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""


def complete(table, row: dict) -> list:
    """The row's values in column order; a missing value is the column's default."""
    values = []
    for column in table.columns:
        if column.name in row:
            values.append(row[column.name])
        elif column.default is None:
            values.append(None)
        elif column.default.is_callable:
            values.append(column.default.arg(None))
        else:
            values.append(column.default.arg)
    return values


class SqliteWriter:
    """``executemany`` of one prepared INSERT per table, values as SQLAlchemy would bind them."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def write(self, chunk: dict) -> None:
        with self.engine.begin() as conn:
            raw = conn.connection.dbapi_connection
            for model in TABLES:
                if chunk.get(model):
                    self._insert(raw, model.__table__, chunk[model], conn.dialect)

    @staticmethod
    def _insert(raw, table, rows: list[dict], dialect) -> None:
        processors = [c.type.dialect_impl(dialect).bind_processor(dialect)
                      for c in table.columns]
        names = ", ".join(f'"{c.name}"' for c in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        raw.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", (
            [p(v) if p and v is not None else v for p, v in zip(processors, complete(table, r))]
            for r in rows))


class PostgresWriter:
    """``COPY ... FROM STDIN`` per table. The indexes that no constraint needs are dropped
    first and made again at the end (one sorted build is far faster than a million inserts
    into a GIN index); the id sequences are moved past the loaded ids."""

    def __init__(self, engine: Engine):
        self.engine = engine
        with engine.begin() as conn:
            self.indexes = conn.execute(text(SECONDARY_INDEXES)).all()
            for name, _definition in self.indexes:
                conn.exec_driver_sql(f"DROP INDEX {name}")

    def write(self, chunk: dict) -> None:
        with self.engine.begin() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            for model in TABLES:
                if chunk.get(model):
                    self._copy(cursor, model.__table__, chunk[model])

    @staticmethod
    def _copy(cursor, table, rows: list[dict]) -> None:
        names = ", ".join(f'"{c.name}"' for c in table.columns)
        json_columns = {i for i, c in enumerate(table.columns) if c.type.__class__.__name__
                        == "JSON"}
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = complete(table, row)
                for i in json_columns:
                    values[i] = json.dumps(values[i])
                copy.write_row(values)

    def finish(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
            for _name, definition in self.indexes:
                conn.exec_driver_sql(definition)
            for model in TABLES:
                name = model.__tablename__
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                     f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)")


def fill(engine: Engine, tickets: int, progress=print) -> float:
    """Load a store of ``tickets`` tickets into an empty migrated database; returns seconds."""
    started = time.monotonic()
    postgres = engine.dialect.name == "postgresql"
    writer = PostgresWriter(engine) if postgres else SqliteWriter(engine)
    generator = Generator(tickets)
    writer.write(generator.workspace_rows())
    for first in range(0, tickets, CHUNK):
        writer.write(generator.chunk(first, min(CHUNK, tickets - first)))
        if (first // CHUNK) % 10 == 9:
            progress(f"  {first + CHUNK:,} tickets loaded, {time.monotonic() - started:.0f} s")
    if postgres:
        writer.finish()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does on a live store
    return time.monotonic() - started


def stored_tickets(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Ticket))
