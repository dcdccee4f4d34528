"""The ingest pipeline on real databases: dedupe, classify, identify, thread, lifecycle, store."""
from sqlalchemy import func, select

from store.models import AuditEntry, Identity, Message, QuarantineEntry, ThreadKey, Ticket
from tests.workers.events import mail_event
from workers.ingest import pipeline
from workers.ingest.job import ingest_with, store_event

import pytest


def store(rt, event):
    return store_event(rt, rt.config.workspace(event.workspace), event)


def tickets(rt):
    with rt.sessions() as s:
        return s.scalars(select(Ticket).order_by(Ticket.number)).all()


def count(rt, model):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_first_message_creates_ticket_number_one(runtime):
    assert store(runtime, mail_event("a@x")) == "created"
    [ticket] = tickets(runtime)
    assert (ticket.number, ticket.status, ticket.message_count) == (1, "new", 1)


def test_same_event_twice_is_one_message(runtime):
    event = mail_event("a@x")
    store(runtime, event)
    assert store(runtime, event) == "duplicate"
    assert count(runtime, Message) == 1


def test_reused_message_id_with_other_content_is_kept(runtime):
    store(runtime, mail_event("a@x", text="first"))
    assert store(runtime, mail_event("a@x", text="second, different")) != "duplicate"
    assert count(runtime, Message) == 2


def test_reply_with_in_reply_to_threads(runtime):
    store(runtime, mail_event("a@x"))
    assert store(runtime, mail_event("b@x", in_reply_to=["a@x"])) == "threaded"
    assert len(tickets(runtime)) == 1


def test_subject_token_from_participant_threads(runtime):
    store(runtime, mail_event("a@x"))
    assert store(runtime, mail_event("b@x", subject="Re: [#1] Help", subject_number=1)) == "threaded"


def test_subject_token_from_stranger_opens_new_ticket(runtime):
    store(runtime, mail_event("a@x"))
    event = mail_event("b@x", sender="mallory@evil.test", subject_number=1)
    assert store(runtime, event) == "created"
    assert len(tickets(runtime)) == 2


def test_reply_before_parent_lands_on_one_ticket(runtime):
    store(runtime, mail_event("child@x", in_reply_to=["parent@x"], references=["parent@x"]))
    assert store(runtime, mail_event("parent@x")) == "threaded"
    assert len(tickets(runtime)) == 1


def test_two_customers_answering_one_newsletter_get_two_tickets(runtime):
    store(runtime, mail_event("r1@x", sender="one@c.test", in_reply_to=["news@vendor"]))
    store(runtime, mail_event("r2@x", sender="two@c.test", in_reply_to=["news@vendor"]))
    assert len(tickets(runtime)) == 2


def test_customer_message_reopens_resolved_ticket(runtime):
    store(runtime, mail_event("a@x"))
    with runtime.sessions.begin() as s:
        s.scalars(select(Ticket)).one().status = "resolved"
    store(runtime, mail_event("b@x", in_reply_to=["a@x"]))
    assert tickets(runtime)[0].status == "open"


def test_follow_up_policy_opens_linked_ticket_for_closed(runtime, test_config):
    runtime.config = test_config.model_copy(update={"workspaces": tuple(
        w.model_copy(update={"reopen": w.reopen.model_copy(update={"policy": "follow_up"})})
        for w in test_config.workspaces)})
    store(runtime, mail_event("a@x"))
    with runtime.sessions.begin() as s:
        s.scalars(select(Ticket)).one().status = "closed"
    assert store(runtime, mail_event("b@x", in_reply_to=["a@x"])) == "created"
    first, second = tickets(runtime)
    assert (first.status, second.follow_up_of_id) == ("closed", first.id)


def test_out_of_office_never_changes_state(runtime):
    store(runtime, mail_event("a@x"))
    with runtime.sessions.begin() as s:
        s.scalars(select(Ticket)).one().status = "answered"
    store(runtime, mail_event("ooo@x", in_reply_to=["a@x"], kind="out_of_office"))
    [ticket] = tickets(runtime)
    assert (ticket.status, ticket.message_count) == ("answered", 2)


def test_automatic_mail_without_ticket_is_quarantined(runtime):
    with pytest.raises(pipeline.Quarantine) as caught:
        store(runtime, mail_event("ooo@x", kind="auto_reply"))
    assert caught.value.reason == "automatic"
    assert tickets(runtime) == []


def test_bounce_attaches_to_its_ticket_and_marks_address(runtime):
    store(runtime, mail_event("a@x", sender="gone@c.test"))
    bounce = mail_event("dsn@mta", sender="mailer-daemon@mta.test", kind="bounce",
                        bounced_recipient="gone@c.test", original_message_id="a@x")
    assert store(runtime, bounce) == "threaded"
    with runtime.sessions() as s:
        assert s.scalars(select(Identity).where(Identity.value == "gone@c.test")).one().bouncing


def test_merged_ticket_redirects_to_survivor(runtime):
    store(runtime, mail_event("a@x"))
    store(runtime, mail_event("b@x", sender="bob@c.test"))
    with runtime.sessions.begin() as s:
        first, second = s.scalars(select(Ticket).order_by(Ticket.number)).all()
        first.merged_into_id = second.id
    store(runtime, mail_event("c@x", in_reply_to=["a@x"]))
    assert [t.message_count for t in tickets(runtime)] == [1, 2]


def test_audit_trail_records_creation_and_status_change(runtime):
    store(runtime, mail_event("a@x"))
    with runtime.sessions.begin() as s:
        s.scalars(select(Ticket)).one().status = "answered"
    store(runtime, mail_event("b@x", in_reply_to=["a@x"]))
    with runtime.sessions() as s:
        kinds = s.scalars(select(AuditEntry.kind).order_by(AuditEntry.id)).all()
    assert kinds == ["created", "status", "threaded"]


def test_junk_long_message_id_is_stored_under_a_bounded_key(runtime):
    assert store(runtime, mail_event("x" * 3000 + "@y")) == "created"
    with runtime.sessions() as s:
        assert max(len(k) for k in s.scalars(select(ThreadKey.key))) < 500


def test_envelope_of_unknown_workspace_is_quarantined_with_its_raw_payload(runtime):
    sha = runtime.blobs.put(b"From: a@b\r\n\r\nhi")
    envelope = {"workspace": "gone", "channel": "email", "raw_ref": sha, "size": 15}
    assert ingest_with(runtime, [envelope]) == ["quarantined"]
    with runtime.sessions() as s:
        entry = s.scalars(select(QuarantineEntry)).one()
    assert (entry.reason, entry.envelope["raw_ref"]) == ("unknown_workspace", sha)


def test_missing_raw_payload_is_quarantined_not_crashed(runtime):
    envelope = {"workspace": "demo", "channel": "email", "raw_ref": "ab" * 32}
    assert ingest_with(runtime, [envelope]) == ["quarantined"]


def test_batch_with_reply_and_parent_makes_one_ticket(runtime):
    from workers.ingest.batch import Item, store_items
    config = runtime.config.workspace("demo")
    items = [Item(envelope={}, config=config, event=mail_event("p@x")),
             Item(envelope={}, config=config, event=mail_event("c@x", in_reply_to=["p@x"]))]
    store_items(runtime, items)
    assert [i.outcome for i in items] == ["created", "threaded"]


def test_delayed_delivery_report_does_not_mark_address_bouncing(runtime):
    store(runtime, mail_event("a@x", sender="slow@c.test"))
    delay = mail_event("dsn@mta", sender="mailer-daemon@mta.test", kind="bounce",
                       bounced_recipient="slow@c.test", bounce_status="4.4.7",
                       original_message_id="a@x")
    assert store(runtime, delay) == "threaded"
    with runtime.sessions() as s:
        assert not s.scalars(select(Identity).where(Identity.value == "slow@c.test")).one().bouncing
