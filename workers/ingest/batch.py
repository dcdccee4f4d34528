"""Storing a batch of normalized items: one transaction, conversation locks, the pipeline.

The conversation locks of every item are taken at once, sorted (no deadlocks). On PostgreSQL
they are only tried: the items whose locks another transaction holds (and the later items that
share a key with them) are stored after, by a second transaction that waits for theirs, so two
workers whose batches share a customer do not queue for each other's whole batch. The fast path
runs the pipeline without savepoints and commits once; anything unforeseen rolls the batch back
and it is done again with a savepoint per item, so one bad item costs only itself. An item that
lost a unique-key race with another worker is retried in a fresh transaction.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import DataError, IntegrityError

from channels.event import TicketEvent
from config.workspaces import WorkspaceConfig
from store import db, repo
from store.models import QuarantineEntry
from tickets import agents
from workers.ingest import isolation, phases, pipeline
from queues.runtime import Runtime
from workers.ingest.view import BatchView

log = logging.getLogger(__name__)
RACE_ATTEMPTS = 5  # a unique-key race with another worker is retried this many times at once


@dataclass
class Item:
    """One envelope on its way through the job."""
    envelope: dict
    config: WorkspaceConfig | None = None
    event: TicketEvent | None = None
    outcome: str = ""           # created | threaded | edited | duplicate | ignored | quarantined
    reason: str = ""            # quarantine reason and detail
    detail: str = ""
    route: int | None = None    # id of a ticket to route once the batch committed
    language: str | None = None  # detected before the batch's lock (``rules_step.early_language``)
    blobs: list[bytes] = field(default_factory=list)  # attachments to write before storing


def store_items(rt: Runtime, items: list[Item]) -> None:
    for config in {i.config for i in items if i.config}:
        if config.slug not in rt.workspaces_stored:
            repo.ensure_workspace(rt.sessions, config.slug, config.name)
            if config.routing.agents:
                seed(rt, config)
            rt.workspaces_stored.add(config.slug)
    pending = [i for i in items if not i.outcome or i.outcome == "quarantined"]
    for _ in range(RACE_ATTEMPTS):
        if not pending:
            return
        pending = store_batch(rt, pending)
    for item in pending:
        item.outcome, item.reason = "quarantined", "race"
        item.detail = f"unique-key conflicts {RACE_ATTEMPTS} times in a row"
        store_batch(rt, [item])


def seed(rt: Runtime, config: WorkspaceConfig) -> None:
    """The workspace file's agents into the store (another worker may have done it first)."""
    try:
        with rt.sessions.begin() as session:
            agents.seed_agents(session, repo.workspace_row(session, config.slug).id,
                               config.routing)
    except IntegrityError:
        log.info("agents of %s seeded by another worker", config.slug)


def store_batch(rt: Runtime, items: list[Item]) -> list[Item]:
    """One transaction for ``items``; returns those that lost a unique-key race.

    Fast path first: the pipeline steps raise ``Discard``/``Quarantine`` before they write, so
    the batch needs no savepoints. Anything else rolls the batch back, and it is done again
    with a savepoint per item, so one bad item costs only itself.
    """
    return _store_in_turn(rt, items, defer_contested=True)


def _store_in_turn(rt: Runtime, items: list[Item], defer_contested: bool) -> list[Item]:
    """``store_batch``; with ``defer_contested`` (PostgreSQL) the items whose conversations
    another transaction holds wait for a second transaction instead of holding up the batch."""
    before = [(i.outcome, i.reason, i.detail) for i in items]
    deferred: list[Item] | None = [] if defer_contested else None
    try:
        losers = _store_batch(rt, items, fast=True, deferred=deferred)
    except Exception as exc:
        if isolation.belongs_to_job(exc):
            raise  # the database is down or busy (RQ retries the job), or the job timed out
    else:
        if deferred:  # after the first transaction committed: now waiting for their locks
            losers += _store_in_turn(rt, deferred, defer_contested=False)
        return losers
    for item, (outcome, reason, detail) in zip(items, before):
        item.outcome, item.reason, item.detail = outcome, reason, detail
    return _store_batch(rt, items, fast=False)


def _store_batch(rt: Runtime, items: list[Item], fast: bool,
                 deferred: list[Item] | None = None) -> list[Item]:
    """One transaction; with ``deferred`` the conversation locks are only tried and the items
    that did not get all of theirs are moved to ``deferred``, unstored."""
    losers = []
    keys_of = conversation_lock_keys(items)
    keys = [key for own in keys_of.values() for key in own]
    started = time.perf_counter()
    with rt.sessions.begin() as session:
        with phases.phase("lock wait"):
            if deferred is None:
                db.lock_keys(session, keys)  # SQLite: the single writer's lock (BEGIN IMMEDIATE)
            else:
                items, later = contested(items, keys_of, db.try_lock_keys(session, keys))
                deferred += later
        locked = time.perf_counter()
        with phases.phase("view"):
            view = load_view(session, [i for i in items if not i.outcome],
                             defer_inserts=True) if fast else None
        with phases.phase("steps"):
            for item in items:
                if item.outcome:  # quarantined before storing: only its entry is written
                    pass
                elif fast:  # no savepoint: any unforeseen error fails the batch (slow path next)
                    run_pipeline(session, item, view)
                elif not store_one(session, item):
                    losers.append(item)
                if item.outcome == "quarantined":
                    session.add(quarantine_entry(item))
        with phases.phase("flush"):
            if view is not None:
                view.flush()
        written = time.perf_counter()
        commit_cpu = time.process_time()
    committed = time.perf_counter()
    phases.add("commit", committed - written, time.process_time() - commit_cpu)
    log_lock_time(len(items), started, locked, written, committed)
    return losers


def log_lock_time(count: int, started: float, locked: float, written: float,
                  committed: float) -> None:
    """How long a batch waited for its locks and held them (``bench.make_run`` sums these)."""
    log.info("stored %d item(s): waited %.2f ms for the locks, held them %.2f ms "
             "(%.2f ms of it committing)", count, 1000 * (locked - started),
             1000 * (committed - locked), 1000 * (committed - written))


def conversation_lock_keys(items: list[Item]) -> dict[int, list[str]]:
    """The conversation keys of every item to store (by ``id(item)``); one whose keys cannot
    even be computed (an event no step foresaw) is quarantined instead of failing its batch."""
    keys = {}
    for item in items:
        if item.event is None or item.outcome:
            continue
        try:
            keys[id(item)] = lock_keys(item)
        except Exception as exc:
            if isolation.belongs_to_job(exc):
                raise
            item.outcome, item.reason, item.detail = "quarantined", "error", isolation.describe(exc)
    return keys


def contested(items: list[Item], keys_of: dict[int, list[str]],
              held: set[str]) -> tuple[list[Item], list[Item]]:
    """(items to store now, items to store after): an item waits when another transaction
    holds one of its keys, and so does every later item that shares a key with a waiting one,
    so the messages of one conversation are still stored in the batch's order."""
    now, later, waiting = [], [], set()
    for item in items:
        own = keys_of.get(id(item), ())
        if any(key not in held or key in waiting for key in own):
            waiting.update(own)
            later.append(item)
        else:
            now.append(item)
    return now, later


def load_view(session, items: list[Item], defer_inserts: bool = False) -> BatchView:
    return BatchView.load(session, [(repo.workspace_row(session, i.config.slug).id, i.event)
                                    for i in items], defer_inserts)


def run_pipeline(session, item: Item, view: BatchView) -> None:
    """The pipeline for one item; its outcome, including a named stop, is set on the item."""
    try:
        ctx = pipeline.run(pipeline.Context(session=session, event=item.event,
                                            config=item.config, view=view,
                                            language=item.language))
        item.outcome = "created" if ctx.created else "threaded"
        item.route = ctx.ticket.id if ctx.ticket.routing_state == "new" else None
    except pipeline.Edited:
        item.outcome = "edited"
    except pipeline.Discard:
        item.outcome = "duplicate"
    except pipeline.Quarantine as exc:
        item.outcome, item.reason, item.detail = "quarantined", exc.reason, exc.detail


def lock_keys(item: Item) -> list[str]:
    return [f"{item.config.slug}:{k}" for k in pipeline.conversation_keys(item.event)]


def store_one(session, item: Item) -> bool:
    """Run the pipeline in a savepoint with a view of its own (the batch's may hold rows that
    a rolled-back savepoint took away); False when a concurrent worker won a unique key."""
    try:
        with session.begin_nested():
            view = load_view(session, [item])
            run_pipeline(session, item, view)
            view.flush()
    except IntegrityError:
        log.info("unique-key race on %s", item.event.dedupe_key)
        return False
    except DataError as exc:  # a value the database refuses (e.g. too long): not transient
        item.outcome, item.reason, item.detail = "quarantined", "invalid_data", str(exc.orig)
    except Exception as exc:  # a bug or input we did not foresee: keep it, never crash-loop
        if isolation.belongs_to_job(exc):
            raise  # the database is down or busy (RQ retries the job), or the job timed out
        log.exception("pipeline failed for %s", item.event.dedupe_key)
        item.outcome, item.reason, item.detail = "quarantined", "error", isolation.describe(exc)
    return True


def quarantine_entry(item: Item) -> QuarantineEntry:
    """The entry for a quarantined item; its text is cleaned so the database never refuses
    it (a NUL byte from an exception message would fail the whole batch on PostgreSQL)."""
    envelope = isolation.clean_json(item.envelope)
    detail = isolation.clean_text(item.detail)[:4000]
    log.warning("quarantined %s: %s %s", envelope.get("raw_ref"), item.reason, detail[:200])
    return QuarantineEntry(
        workspace=str(envelope.get("workspace", ""))[:63],
        channel=str(envelope.get("channel", ""))[:20],
        native_id=str(envelope.get("native_id", ""))[:998], reason=item.reason,
        detail=detail, envelope=envelope,
        size=envelope.get("size", 0), received_at=str(envelope.get("received_at", ""))[:40])
