"""The batch's new customers, identities and tickets, written together (``store.new_rows``):
ids from memory (SQLite) or a sequence block (PostgreSQL), numbers at the end, in order."""
import pytest
from sqlalchemy import select

from config.workspaces import parse_config
from store.models import AuditEntry, Customer, Identity, Message, Ticket
from tests.conftest import TEST_CONFIG
from tests.workers.events import mail_event
from workers.ingest import batch as batch_module
from workers.ingest.batch import Item, store_items


@pytest.fixture(autouse=True)
def fast_path_only(monkeypatch):
    """A failing fast path would be hidden by the slow one (a savepoint per item, rows
    inserted at once): these batches must never need it."""
    def slow(session, item):
        raise AssertionError(f"the batch fell back to the slow path at {item.event.native_id}")
    monkeypatch.setattr(batch_module, "store_one", slow)


def batch(rt, *events, config=None):
    config = config or rt.config.workspace("demo")
    items = [Item(envelope={"workspace": "demo", "channel": "email"}, config=config, event=e)
             for e in events]
    store_items(rt, items)
    return [item.outcome for item in items]


def rows(rt, model):
    with rt.sessions() as s:
        return s.scalars(select(model).order_by(model.id)).all()


def by_sender(rt) -> dict[str, tuple[Ticket, ...]]:
    """Sender address -> the tickets of that sender's messages, checked row by row."""
    with rt.sessions() as s:
        found = {}
        for message in s.scalars(select(Message).order_by(Message.id)):
            ticket = s.get(Ticket, message.ticket_id)
            identity = s.scalar(select(Identity).where(Identity.value == message.from_address))
            assert ticket.customer_id is not None
            assert s.get(Customer, identity.customer_id) is not None
            found.setdefault(message.from_address, []).append(ticket.number)
        return found


def assert_consistent(rt, gaps: bool = False):
    """Every identity names a stored customer, every ticket its customer, numbers 1..n
    (with ``gaps``: increasing, as a rolled-back savepoint's number on PostgreSQL is lost)."""
    customers = {c.id for c in rows(rt, Customer)}
    assert {i.customer_id for i in rows(rt, Identity)} <= customers
    tickets = rows(rt, Ticket)
    assert {t.customer_id for t in tickets} <= customers
    numbers = sorted(t.number for t in tickets)
    if gaps:
        assert len(set(numbers)) == len(numbers)
    else:
        assert numbers == list(range(1, len(tickets) + 1))
    with rt.sessions() as s:  # every ticket's audit trail says it was created
        for ticket in tickets:
            kinds = s.scalars(select(AuditEntry.kind).where(AuditEntry.ticket_id == ticket.id)
                              .order_by(AuditEntry.id)).all()
            assert "created" in kinds
            count = len(s.scalars(select(Message.id).where(Message.ticket_id == ticket.id)).all())
            assert ticket.message_count == count


def test_a_batch_of_new_senders_and_their_replies(runtime):
    outcomes = batch(runtime,
                     mail_event("a1@x", sender="alice@c.test"),
                     mail_event("b1@x", sender="bob@c.test"),
                     mail_event("c1@x", sender="carol@c.test"),
                     mail_event("a2@x", sender="alice@c.test", in_reply_to=["a1@x"]),
                     mail_event("d1@x", sender="dave@c.test", in_reply_to=["b1@x"]),
                     mail_event("b2@x", sender="bob@c.test", subject="Other matter"))
    assert outcomes == ["created", "created", "created", "threaded", "threaded", "created"]
    assert by_sender(runtime) == {"alice@c.test": [1, 1], "bob@c.test": [2, 4],
                                  "carol@c.test": [3], "dave@c.test": [2]}
    assert len(rows(runtime, Customer)) == len(rows(runtime, Identity)) == 4
    assert_consistent(runtime)


def test_a_batch_mixing_known_and_new(runtime):
    batch(runtime, mail_event("a1@x", sender="alice@c.test"),
          mail_event("b1@x", sender="bob@c.test"))
    outcomes = batch(runtime,
                     mail_event("e1@x", sender="erin@c.test"),
                     mail_event("a2@x", sender="alice@c.test", in_reply_to=["a1@x"]),
                     mail_event("b2@x", sender="bob@c.test", subject="New question"),
                     mail_event("e2@x", sender="erin@c.test", in_reply_to=["e1@x"]),
                     mail_event("a1@x", sender="alice@c.test"))  # a duplicate
    assert outcomes == ["created", "threaded", "created", "threaded", "duplicate"]
    assert by_sender(runtime) == {"alice@c.test": [1, 1], "bob@c.test": [2, 4],
                                  "erin@c.test": [3, 3]}
    assert len(rows(runtime, Customer)) == 3
    assert_consistent(runtime)


def test_rows_inserted_outside_a_batch_after_it_get_fresh_ids(runtime):
    """The ids handed out from memory or a sequence block never collide with the
    database's own: a plain insert afterwards, and the next batch, get new ones."""
    batch(runtime, *(mail_event(f"m{n}@x", sender=f"s{n}@c.test") for n in range(5)))
    before = {c.id for c in rows(runtime, Customer)}
    with runtime.sessions.begin() as s:
        extra = Customer(workspace_id=s.scalars(select(Customer.workspace_id)).first(),
                         name="By hand")
        s.add(extra)
        s.flush()
    assert extra.id not in before
    batch(runtime, *(mail_event(f"n{n}@x", sender=f"t{n}@c.test") for n in range(3)))
    assert len({c.id for c in rows(runtime, Customer)}) == 9
    assert_consistent(runtime)


def test_a_rule_that_sets_the_status_of_a_new_ticket(runtime):
    """The status change's audit entry names the new ticket: its row is written first."""
    config = parse_config({"workspaces": [{**TEST_CONFIG["workspaces"][0], "routing": {
        "agents": [{"id": "jana", "capacity": {"email": 5}, "status": "online"}],
        "rules": [{"name": "hot", "match": {"subject": "urgent"}, "then": {"status": "open"}}],
    }}]}).workspace("demo")
    outcomes = batch(runtime, mail_event("a1@x", sender="alice@c.test"),
                     mail_event("b1@x", sender="bob@c.test", subject="urgent: down"),
                     mail_event("c1@x", sender="carol@c.test"), config=config)
    assert outcomes == ["created"] * 3
    assert [t.status for t in rows(runtime, Ticket)] == ["new", "open", "new"]
    assert_consistent(runtime)


def test_a_batch_done_again_item_by_item_after_a_failure(runtime, monkeypatch):
    """An unforeseen error rolls the fast path back (ids handed out, nothing written); the
    slow path stores the batch again, a savepoint and at-once inserts per item."""
    monkeypatch.undo()  # this one needs the slow path
    from workers.ingest import lifecycle
    row = lifecycle.message_row

    def failing(ctx):
        if ctx.event.native_id == "bad@x":
            raise RuntimeError("unforeseen")
        return row(ctx)
    monkeypatch.setattr(lifecycle, "message_row", failing)
    batch(runtime, mail_event("a1@x", sender="alice@c.test"))
    outcomes = batch(runtime,
                     mail_event("b1@x", sender="bob@c.test"),
                     mail_event("bad@x", sender="mallory@c.test"),
                     mail_event("c1@x", sender="carol@c.test"),
                     mail_event("b2@x", sender="bob@c.test", in_reply_to=["b1@x"]))
    assert outcomes == ["created", "quarantined", "created", "threaded"]
    found = by_sender(runtime)
    assert found["alice@c.test"] == [1] and found["bob@c.test"] == [2, 2]
    assert found["carol@c.test"][0] in (3, 4)  # PostgreSQL: mallory's number is a gap
    assert "mallory@c.test" not in found
    assert_consistent(runtime, gaps=True)
