"""The pipeline's channel features on real databases: edits, linked identities, conversations,
inputs with nothing to store."""
import json

from sqlalchemy import select

from channels.common import Parsed
from config.workspaces import parse_config
from store.models import AuditEntry, Customer, Identity, Message, Ticket
from tests.workers.events import chat_event, mail_event
from tests.workers.test_pipeline import count, store, tickets
from workers.ingest import normalize
from workers.ingest.batch import Item, store_items
from workers.ingest.job import ingest_with


def messages(rt):
    with rt.sessions() as s:
        return s.scalars(select(Message).order_by(Message.id)).all()


def set_status(rt, number, status):
    with rt.sessions.begin() as s:
        s.scalar(select(Ticket).where(Ticket.number == number)).status = status


# --- edits ---

def test_newer_revision_replaces_the_stored_text(runtime):
    store(runtime, chat_event("m1", text="helo"))
    assert store(runtime, chat_event("m1", text="hello", revision="1700000100")) == "edited"
    [message] = messages(runtime)
    assert (message.text, message.reply_text, message.revision) == ("hello", "hello",
                                                                     "1700000100")
    with runtime.sessions() as s:
        kinds = s.scalars(select(AuditEntry.kind)).all()
    assert "message_edited" in kinds


def test_older_or_equal_revision_changes_nothing(runtime):
    store(runtime, chat_event("m1", text="v2", revision="1700000200"))
    assert store(runtime, chat_event("m1", text="v1", revision="1700000100")) == "duplicate"
    assert store(runtime, chat_event("m1", text="v2 again", revision="1700000200")) == "duplicate"
    assert [m.text for m in messages(runtime)] == ["v2"]


def test_revisions_compare_as_numbers(runtime):
    store(runtime, chat_event("m1", text="nine", revision="9"))
    assert store(runtime, chat_event("m1", text="ten", revision="10")) == "edited"
    assert [m.text for m in messages(runtime)] == ["ten"]


def test_edit_before_its_original_keeps_the_edit(runtime):
    assert store(runtime, chat_event("m1", text="edited", revision="5")) == "created"
    assert store(runtime, chat_event("m1", text="original")) == "duplicate"
    assert [m.text for m in messages(runtime)] == ["edited"]


def test_edit_in_the_same_batch_as_its_original(runtime):
    config = runtime.config.workspace("demo")
    items = [Item(envelope={"workspace": "demo", "channel": "chat"}, config=config, event=e)
             for e in (chat_event("m1", text="first"), chat_event("m1", text="fixed",
                                                                  revision="3"))]
    store_items(runtime, items)
    assert [i.outcome for i in items] == ["created", "edited"]
    assert [(m.text, m.revision) for m in messages(runtime)] == [("fixed", "3")]


# --- one customer across channels ---

def test_chat_visitor_with_email_is_the_email_customer(runtime):
    store(runtime, mail_event("a@x", sender="bob@customer.test"))
    store(runtime, chat_event("m1", visitor="v9", links=["email:Bob@Customer.test"]))
    assert count(runtime, Customer) == 1
    with runtime.sessions() as s:
        identities = {(i.kind, i.value) for i in s.scalars(select(Identity))}
    assert identities == {("email", "bob@customer.test"), ("chat", "v9")}


def test_linked_identity_is_added_for_later_mail(runtime):
    store(runtime, chat_event("m1", visitor="v9", links=["email:bob@customer.test",
                                                         "phone:+420123456789"]))
    store(runtime, mail_event("a@x", sender="bob@customer.test"))
    assert count(runtime, Customer) == 1
    chat, mail = tickets(runtime)
    assert chat.customer_id == mail.customer_id is not None
    with runtime.sessions() as s:
        assert ("phone", "+420123456789") in {(i.kind, i.value)
                                              for i in s.scalars(select(Identity))}


def test_unknown_link_kinds_are_ignored(runtime):
    store(runtime, chat_event("m1", links=["password:x", "email:", "nonsense"]))
    with runtime.sessions() as s:
        assert {i.kind for i in s.scalars(select(Identity))} == {"chat"}


# --- conversations ---

def test_a_conversation_is_one_ticket(runtime):
    for n in range(3):
        store(runtime, chat_event(f"m{n}"))
    assert [t.message_count for t in tickets(runtime)] == [3]


def test_message_to_resolved_conversation_reopens_by_default(runtime):
    store(runtime, chat_event("m1"))
    set_status(runtime, 1, "resolved")
    assert store(runtime, chat_event("m2")) == "threaded"
    assert [(t.number, t.status) for t in tickets(runtime)] == [(1, "open")]


def test_message_to_closed_conversation_starts_a_linked_ticket(runtime):
    store(runtime, chat_event("m1"))
    set_status(runtime, 1, "closed")
    assert store(runtime, chat_event("m2")) == "created"
    assert store(runtime, chat_event("m3")) == "threaded"  # the conversation moved on
    first, second = tickets(runtime)
    assert (first.status, first.message_count) == ("closed", 1)
    assert (second.follow_up_of_id, second.message_count) == (first.id, 2)


def test_conversation_policy_from_the_workspace(runtime):
    data = runtime.config.model_dump()
    data["workspaces"][0]["channels"] = {"conversation": {"on_resolved": "new_ticket",
                                                          "on_closed": "reopen"}}
    runtime.config = parse_config(data)
    store(runtime, chat_event("m1", conversation="a"))
    store(runtime, chat_event("m1", conversation="b"))
    set_status(runtime, 1, "resolved")
    set_status(runtime, 2, "closed")
    assert store(runtime, chat_event("m2", conversation="a")) == "created"
    assert store(runtime, chat_event("m2", conversation="b")) == "threaded"
    assert [(t.number, t.status) for t in tickets(runtime)] == [
        (1, "resolved"), (2, "open"), (3, "new")]


# --- nothing to store ---

def ignore_everything(raw, envelope, runtime):
    return Parsed(event=None)


def test_input_with_nothing_to_store_is_ignored(runtime, monkeypatch):
    monkeypatch.setitem(normalize.ADAPTERS, "chat", ignore_everything)
    raw = json.dumps({"command": "/start"}).encode()
    sha = runtime.blobs.put(raw)
    envelope = {"channel": "chat", "workspace": "demo", "account": "bot", "raw_ref": sha,
                "size": len(raw), "received_at": "2026-11-23T10:00:00+00:00", "meta": {}}
    assert ingest_with(runtime, [envelope]) == ["ignored"]
    assert count(runtime, Ticket) == 0
