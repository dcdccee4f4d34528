"""Routing wired into the pipeline and the sweep, on SQLite and PostgreSQL: rules, language,
priority raisers, assignment with its explanation, the pending queue, refills, ladders, SLA due
times and breaches, auto-resolve and auto-close."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from config.workspaces import parse_config
from store.models import Agent, Assignment, AuditEntry, Ticket, Workspace
from tests.conftest import TEST_CONFIG
from tests.workers.events import chat_event, mail_event
from tickets import actions, assign
from workers.assignment import sweep
from workers.ingest.job import store_event

ALL_DAY = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ROUTING = {
    "calendars": {"always": {"timezone": "Europe/Prague", "hours": ALL_DAY}},
    "agents": [
        {"id": "jana", "skills": {"lang:cs": 5, "billing": 3}, "capacity": {"email": 1},
         "status": "online"},
        {"id": "bob", "skills": {"lang:en": 5, "billing": 1}, "capacity": {"email": 2},
         "status": "online"},
    ],
    "rules": [
        {"name": "billing", "match": {"subject": "invoice|refund"},
         "then": {"required": {"billing": 2}, "tags": ["billing"], "sla": "fast",
                  "ladder": "billing"}},
        {"name": "chat-offline", "match": {"channels": ["chat"]},
         "then": {"required": {"chat-skill": 1}}},
    ],
    "priority": {"keywords": {"urgent": ["outage"]}},
    "language": {"candidates": ["cs", "en"], "skill": "required"},
    "ladders": {"billing": [{"action": "lower_levels", "after_s": 600, "by": 1}]},
    "sla": {"default": {"medium": {"first_response": "4h", "resolution": "3d"},
                        "urgent": {"first_response": "1h"}},
            "fast": {"medium": {"first_response": "30m"}, "high": {"first_response": "20m"}}},
    "automation": {"auto_resolve_after": "2d", "auto_close_after": "7d",
                   "on_breach": ["notify", "raise_priority"]},
}
CZECH = "Dobrý den, posílám fakturu a prosím o vrácení peněz za objednávku z minulého týdne."
ENGLISH = "Hello, I would like a refund for the invoice of my order from last week please."


@pytest.fixture
def rt(runtime):
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = ROUTING
    runtime.config = parse_config(data)
    return runtime


def demo(rt):
    return rt.config.workspace("demo")


def ticket(rt, number: int) -> Ticket:
    with rt.sessions.begin() as s:
        row = s.scalar(select(Ticket).where(Ticket.number == number))
        s.expunge(row)
        return row


def open_load(rt, key: str) -> int:
    with rt.sessions.begin() as s:
        return s.scalar(select(func.count()).select_from(Assignment).join(
            Agent, Agent.id == Assignment.agent_id).where(Agent.key == key,
                                                          Assignment.ended_at.is_(None)))


def later(**delta) -> datetime:
    return datetime.now(timezone.utc) + timedelta(**delta)


def test_czech_billing_mail_goes_to_the_czech_billing_agent_with_an_explanation(rt):
    assert store_event(rt, demo(rt), mail_event("a@x", subject="Invoice 42",
                                                text=CZECH)) == "created"
    t = ticket(rt, 1)
    assert (t.assignee, t.routing_state, t.language) == ("jana", "assigned", "cs")
    assert t.skills == {"billing": 2, "lang:cs": 1} and t.tags == ["billing"]
    reason = t.routing_reason
    assert reason["rules"] == ["billing"] and reason["decision"] == "assign"
    assert reason["eligible"] == 1 and reason["chosen"]
    assert {m["agent"] for m in reason["near_misses"]} == {"bob"}
    due = datetime.fromisoformat(t.sla["first_response_due"].replace("Z", "+00:00"))
    created = t.created_at.replace(tzinfo=timezone.utc)
    assert timedelta(minutes=29) < due - created <= timedelta(minutes=30, seconds=1)
    assert open_load(rt, "jana") == 1


def test_second_ticket_waits_when_the_only_qualified_agent_is_full(rt):
    store_event(rt, demo(rt), mail_event("a@x", subject="Invoice 1", text=CZECH))
    store_event(rt, demo(rt), mail_event("b@x", sender="petr@customer.test",
                                         subject="Refund", text=CZECH))
    t = ticket(rt, 2)
    assert (t.assignee, t.routing_state) == (None, "waiting")
    codes = {r["code"] for m in t.routing_reason["near_misses"] if m["agent"] == "jana"
             for r in m["reasons"]}
    assert "channel_full" in codes
    assert t.routing_next_at is not None  # the ladder's next rung is timed


def test_ladder_rung_lets_a_lower_level_agent_take_it(rt):
    store_event(rt, demo(rt), mail_event("a@x", subject="Invoice 1", text=ENGLISH))
    t = ticket(rt, 1)
    assert (t.language, t.routing_state) == ("en", "waiting")  # bob has billing 1 < 2
    done = sweep.sweep(rt, now=later(minutes=11))
    assert done["climbed"] == 1
    t = ticket(rt, 1)
    assert (t.assignee, t.routing_reason["trigger"], t.routing_reason["step"]) == (
        "bob", "ladder", 1)


def test_keyword_raises_priority_and_tightens_the_sla(rt):
    store_event(rt, demo(rt), mail_event("a@x", subject="Down", text="Total outage since "
                                         "this morning, nothing works for our whole team."))
    t = ticket(rt, 1)
    assert t.priority == "urgent"
    assert any(r.get("word") == "outage" for r in t.routing_reason["reasons"])
    due = datetime.fromisoformat(t.sla["first_response_due"].replace("Z", "+00:00"))
    assert due - t.created_at.replace(tzinfo=timezone.utc) <= timedelta(hours=1, seconds=1)


def test_breach_is_flagged_once_audited_and_escalated(rt):
    store_event(rt, demo(rt), mail_event("a@x", subject="Invoice 1", text=CZECH))
    assert sweep.sweep(rt, now=later(minutes=10))["breaches"] == 0
    assert sweep.sweep(rt, now=later(minutes=31))["breaches"] == 1
    t = ticket(rt, 1)
    assert t.sla["breached"] and t.sla["breaches"] == ["first_response"]
    assert t.priority == "high"
    assert sweep.sweep(rt, now=later(minutes=45))["breaches"] == 0  # flagged once
    with rt.sessions.begin() as s:
        kinds = s.scalars(select(AuditEntry.kind).where(AuditEntry.kind == "sla_breach")).all()
    assert kinds == ["sla_breach"]


def test_agent_reply_stops_first_response_clock_and_auto_resolve_frees_capacity(rt):
    store_event(rt, demo(rt), mail_event("a@x", subject="Invoice 1", text=CZECH))
    store_event(rt, demo(rt), mail_event("b@x", sender="petr@customer.test",
                                         subject="Refund", text=CZECH))
    assert ticket(rt, 2).routing_state == "waiting"
    with rt.sessions.begin() as s:
        first = s.scalar(select(Ticket).where(Ticket.number == 1))
        actions.reply(s, _workspace_row(s), demo(rt), first,
                            actions.Draft(text="Refund sent", author="jana"), "k" * 32)
    t = ticket(rt, 1)
    assert t.status == "answered" and t.first_response_at is not None
    assert t.sla["first_response_due"] is None
    done = sweep.sweep(rt, now=later(days=2, minutes=1))
    assert done["resolved"] == 1
    assert ticket(rt, 1).status == "resolved"
    second = ticket(rt, 2)
    assert (second.assignee, second.routing_state) == ("jana", "assigned")
    assert open_load(rt, "jana") == 1
    assert sweep.sweep(rt, now=later(days=10))["closed"] == 1
    assert ticket(rt, 1).status == "closed"


def test_customer_reopening_a_resolved_ticket_routes_it_again_to_the_same_agent(rt):
    store_event(rt, demo(rt), mail_event("a@x", subject="Invoice 1", text=CZECH))
    with rt.sessions.begin() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == 1))
        t.status = "resolved"
        assign.release(s, demo(rt), t, "resolved")
    assert open_load(rt, "jana") == 0
    store_event(rt, demo(rt), mail_event("b@x", in_reply_to=["a@x"], text=CZECH))
    t = ticket(rt, 1)
    assert (t.status, t.assignee, t.routing_state) == ("open", "jana", "assigned")
    assert t.routing_reason["chosen"]["previous_agent"] is True


def test_ticket_left_new_by_a_killed_worker_is_routed_by_the_sweep(rt):
    store_event(rt, demo(rt), mail_event("a@x", subject="Invoice 1", text=CZECH))
    with rt.sessions.begin() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == 1))
        assign.release(s, demo(rt), t, "test", requeue=True)
        t.updated_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    assert ticket(rt, 1).routing_state == "new"
    assert sweep.sweep(rt)["routed"] == 1
    assert ticket(rt, 1).assignee == "jana"


def test_spam_and_automatic_mail_are_never_routed(rt):
    store_event(rt, demo(rt), mail_event("s@x", kind="spam", text=CZECH))
    assert ticket(rt, 1).routing_state == ""
    assert open_load(rt, "jana") + open_load(rt, "bob") == 0


def test_chat_without_a_qualified_agent_waits_explicitly(rt):
    store_event(rt, demo(rt), chat_event("m1", text="Ahoj, potřebuji pomoc s objednávkou."))
    t = ticket(rt, 1)
    assert (t.routing_state, t.assignee, t.routing_reason["eligible"]) == ("waiting", None, 0)


def _workspace_row(session):
    return session.scalar(select(Workspace).where(Workspace.slug == "demo"))


def test_a_new_conversations_language_is_detected_before_the_store_transaction(rt):
    """``early_language`` (called while a batch is prepared, outside its lock) detects what
    the rules step would; the rules step takes that answer instead of detecting again."""
    from workers.ingest.batch import Item
    from workers.ingest.job import route_items, store_items
    from workers.ingest.rules_step import early_language
    new = mail_event("a@x", subject="Invoice 1", text=CZECH)
    reply = mail_event("b@x", subject="Re: Invoice 1", text=CZECH)
    reply.thread.in_reply_to = ["<earlier@customer.test>"]
    assert early_language(new, demo(rt)) == "cs"
    assert early_language(reply, demo(rt)) is None  # a reply keeps its ticket's language
    item = Item(envelope={"workspace": "demo", "channel": "email"}, config=demo(rt),
                event=mail_event("c@x", subject="Invoice 2", text=ENGLISH), language="cs")
    store_items(rt, [item])
    route_items(rt, [item])
    assert ticket(rt, 1).language == "cs"  # the early answer, not a second detection


def test_automatic_mail_is_not_given_a_language_while_prepared(rt):
    """Automatic mail (a bounce, an auto-reply) never reaches the rules step, so the batch's
    preparation does not detect its language; a customer's new mail gets it detected."""
    from email.message import EmailMessage

    from tests.workers.test_isolation import queued
    from workers.ingest.prepare import prepare_batch

    def raw(sender: str, subject: str, **headers) -> bytes:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "support@demo.test", subject
        for name, value in headers.items():
            msg[name.replace("_", "-")] = value
        msg.set_content(CZECH)
        return msg.as_bytes()

    items = prepare_batch(rt, queued(rt, [
        raw("jana@customer.test", "Faktura"),
        raw("novak@customer.test", "Automatická odpověď: Faktura", Auto_Submitted="auto-replied"),
    ]))
    assert [item.event.classification.kind for item in items] == ["normal", "out_of_office"]
    assert [item.language for item in items] == ["cs", None]
