"""A batch whose conversations another transaction holds (PostgreSQL): the rest is stored at
once, the contested items after, in a transaction of their own, in the batch's order."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from store import db
from store.models import Message
from tests.workers.events import mail_event
from workers.ingest.batch import Item, contested, lock_keys, store_items

WAIT_S = 20


def test_an_item_waits_with_every_later_item_that_shares_a_key():
    items = [Item(envelope={"n": n}) for n in range(4)]
    keys_of = {id(items[0]): ["a", "x"], id(items[1]): ["b"], id(items[2]): ["c", "x"],
               id(items[3]): ["d"]}
    held = {"x", "b", "c", "d"}  # "a" is another transaction's: item 0 waits, item 2 with it
    now, later = contested(items, keys_of, held)
    assert now == [items[1], items[3]] and later == [items[0], items[2]]
    assert contested(items, keys_of, held | {"a"}) == (items, [])


def test_items_of_a_held_conversation_wait_while_the_others_are_stored(runtime):
    if runtime.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: nothing is contested inside it")
    config = runtime.config.workspace("demo")
    store_items(runtime, [Item(envelope={}, config=config, event=mail_event("seed@x"))])
    alice = Item(envelope={}, config=config, event=mail_event("a1@x"))
    items = [alice,
             Item(envelope={}, config=config, event=mail_event("b1@x", sender="bob@c.test")),
             Item(envelope={}, config=config,  # Carol answers Alice's mail: it waits with it
                  event=mail_event("c1@x", sender="carol@c.test", in_reply_to=["a1@x"])),
             Item(envelope={}, config=config, event=mail_event("d1@x", sender="dave@c.test"))]
    identity = next(k for k in lock_keys(alice) if ":identity:" in k)
    engine = runtime.sessions.kw["bind"]
    holder = engine.connect()
    transaction = holder.begin()
    holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": db._lock_id(identity)})
    worker = threading.Thread(target=store_items, args=(runtime, items))
    worker.start()
    try:
        assert _wait_for(runtime, {"b1@x", "d1@x"}), "the uncontested items were not stored"
        assert not _stored(runtime) & {"a1@x", "c1@x"}  # still waiting for Alice's lock
    finally:
        transaction.commit()
        holder.close()
        worker.join(WAIT_S)
    assert not worker.is_alive()
    assert [i.outcome for i in items] == ["created", "created", "threaded", "created"]
    with runtime.sessions() as session:
        ticket_of = dict(session.execute(select(Message.native_id, Message.ticket_id)).all())
    assert ticket_of["c1@x"] == ticket_of["a1@x"]  # the reply found its parent's ticket


def _stored(runtime) -> set[str]:
    with runtime.sessions() as session:
        return set(session.scalars(select(Message.native_id)))


def _wait_for(runtime, wanted: set[str]) -> bool:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if wanted <= _stored(runtime):
            return True
        time.sleep(0.05)
    return False
