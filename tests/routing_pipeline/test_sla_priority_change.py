"""One rule for the SLA due times when a ticket's priority changes, whoever changes it (a PATCH,
the sweep's ``raise_priority`` on a breach), on SQLite and PostgreSQL: the due times are the new
priority's targets counted from the ticket's creation, the time postponed still added; a breach
is flagged by the sweep alone (audited, escalated), once per target, however often the priority
moves its due time afterwards. A ladder's ``escalate`` rung follows the same rule."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from config.workspaces import parse_config
from routing.calendar import as_utc
from store.models import AuditEntry, Ticket
from tests.conftest import TEST_CONFIG
from tests.gateway.apifactory import add_ticket, auth, get
from tests.gateway.test_api_reports import MONDAY, Clock
from tests.workers.events import mail_event
from tickets import sla_clock
from tickets.wire import iso
from workers.assignment import sweep
from workers.ingest.job import store_event

ALL_DAY = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
PAUSE = timedelta(minutes=10)  # every ticket here is postponed from minute 5 to minute 15


@pytest.fixture
def test_config():
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = {
        "calendars": {"always": {"timezone": "UTC", "hours": ALL_DAY}},
        "sla": {"default": {"calendar": "always",
                            "low": {"first_response": "8h", "resolution": "5d"},
                            "medium": {"first_response": "30m", "resolution": "3d"},
                            "high": {"first_response": "20m", "resolution": "1d"},
                            "urgent": {"first_response": "10m", "resolution": "4h"}}},
        "automation": {"on_breach": ["raise_priority"]}}
    return parse_config(data)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def patch(client, number: int, body: dict) -> dict:
    response = client.patch(f"/api/v1/tickets/{number}", json=body, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def paused_ticket(runtime, client, clock) -> int:
    """A medium ticket created at MONDAY, its clock started, postponed from minute 5 to 15."""
    with runtime.sessions.begin() as session:
        ticket = add_ticket(session, created_at=MONDAY, status="open", priority="medium")
        sla_clock.refresh(ticket, runtime.config.workspace("demo").routing, MONDAY)
        number = ticket.number
    clock.at(timedelta(minutes=5))
    patch(client, number, {"status": "postponed"})
    clock.at(timedelta(minutes=15))
    patch(client, number, {"status": "open"})
    return number


def sweep_at(runtime, offset: timedelta) -> int:
    """One sweep pass at MONDAY + offset; how many tickets got a breach flagged."""
    return sweep.sweep(runtime, now=MONDAY + offset)["breaches"]


def trail(runtime, number: int, kind: str) -> list[tuple[str, str, str]]:
    with runtime.sessions() as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        return [(e.old, e.new, e.actor) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.ticket_id == ticket_id, AuditEntry.kind == kind)
            .order_by(AuditEntry.id))]


def stored(runtime, number: int) -> Ticket:
    with runtime.sessions() as session:
        return session.scalar(select(Ticket).where(Ticket.number == number))


def test_a_patched_priority_takes_its_targets_from_creation_with_the_pause(runtime, client, clock):
    number = paused_ticket(runtime, client, clock)
    clock.at(timedelta(minutes=20))
    sla = patch(client, number, {"priority": "high"})["sla"]
    assert sla["first_response_due"] == iso(MONDAY + timedelta(minutes=20) + PAUSE)
    assert sla["resolution_due"] == iso(MONDAY + timedelta(days=1) + PAUSE)
    assert sla["breached"] is False


def test_a_target_a_patch_has_missed_is_flagged_once_by_the_sweep(runtime, client, clock):
    number = paused_ticket(runtime, client, clock)
    clock.at(timedelta(minutes=25))
    sla = patch(client, number, {"priority": "urgent"})["sla"]
    assert sla["first_response_due"] == iso(MONDAY + timedelta(minutes=10) + PAUSE)  # passed
    assert sla["breached"] is False and trail(runtime, number, "sla_breach") == []

    assert sweep_at(runtime, timedelta(minutes=26)) == 1  # flagged as any breach
    assert stored(runtime, number).sla["breaches"] == ["first_response"]
    clock.at(timedelta(minutes=30))
    sla = patch(client, number, {"priority": "low"})["sla"]  # the due time moves ahead ...
    assert sla["first_response_due"] == iso(MONDAY + timedelta(hours=8) + PAUSE)
    assert sla["breached"] is True  # ... the breach stays recorded
    clock.at(timedelta(minutes=35))
    patch(client, number, {"priority": "urgent"})  # passed again: not a second breach
    assert sweep_at(runtime, timedelta(minutes=36)) == 0
    assert trail(runtime, number, "sla_breach") == [("", "first_response", "sweep")]
    events = get(client, f"/api/v1/tickets/{number}/events").get_json()["events"]
    assert [(e["kind"], e["new"], e["actor"]) for e in events if e["kind"] != "status"] == [
        ("priority", "urgent", "api"), ("sla_breach", "first_response", "sweep"),
        ("priority", "low", "api"), ("priority", "urgent", "api")]


def test_a_priority_the_sweep_raises_takes_its_targets_from_creation_with_the_pause(
        runtime, client, clock):
    number = paused_ticket(runtime, client, clock)
    assert sweep_at(runtime, timedelta(minutes=39)) == 0  # due at 30 + 10 minutes paused
    assert sweep_at(runtime, timedelta(minutes=41)) == 1
    raised = stored(runtime, number)
    assert raised.priority == "high" and raised.sla["breaches"] == ["first_response"]
    assert raised.sla["resolution_due"] == iso(MONDAY + timedelta(days=1) + PAUSE)
    assert sweep_at(runtime, timedelta(minutes=42)) == 0  # high's first response: flagged
    assert trail(runtime, number, "sla_breach") == [("", "first_response", "sweep")]
    assert trail(runtime, number, "priority") == [("medium", "high", "sweep")]


def test_a_target_a_raise_has_missed_is_flagged_and_escalated_by_the_next_pass(
        runtime, client, clock):
    number = paused_ticket(runtime, client, clock)
    late = timedelta(days=1, hours=1)  # medium: first response missed, resolution not (3 d)
    assert sweep_at(runtime, late) == 1
    raised = stored(runtime, number)
    assert raised.priority == "high" and raised.sla["breaches"] == ["first_response"]
    assert raised.sla_check_at is not None  # high's resolution (1 d) has passed: look again

    assert sweep_at(runtime, late + timedelta(minutes=1)) == 1
    assert sweep_at(runtime, late + timedelta(minutes=2)) == 0
    final = stored(runtime, number)
    assert final.priority == "urgent"
    assert final.sla["breaches"] == ["first_response", "resolution"]
    assert trail(runtime, number, "sla_breach") == [("", "first_response", "sweep"),
                                                    ("", "resolution", "sweep")]
    assert trail(runtime, number, "priority") == [("medium", "high", "sweep"),
                                                  ("high", "urgent", "sweep")]


def test_a_priority_a_ladder_escalates_moves_the_due_times_as_well(runtime):
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = {
        "calendars": {"always": {"timezone": "UTC", "hours": ALL_DAY}},
        "agents": [{"id": "ann", "skills": {}, "capacity": {"email": 1}, "status": "offline"}],
        "rules": [{"name": "exports", "match": {"subject": "Export"}, "then": {"ladder": "up"}}],
        "ladders": {"up": [{"action": "escalate", "after_s": 60}]},
        "sla": {"default": {"calendar": "always",
                            "medium": {"first_response": "30m", "resolution": "3d"},
                            "high": {"first_response": "20m", "resolution": "1d"}}}}
    runtime.config = parse_config(data)
    store_event(runtime, runtime.config.workspace("demo"),
                mail_event("a@x", subject="Export", text="The export of my orders fails."))
    waiting = stored(runtime, 1)
    assert (waiting.routing_state, waiting.priority) == ("waiting", "medium")
    created = waiting.created_at.replace(tzinfo=timezone.utc)

    now = datetime.now(timezone.utc) + timedelta(minutes=2)  # before the SLA's own check
    assert as_utc(waiting.sla_check_at) > now
    assert sweep.sweep(runtime, now=now)["climbed"] == 1
    raised = stored(runtime, 1)
    assert raised.priority == "high"
    assert raised.sla["resolution_due"] == iso(created + timedelta(days=1))
    assert raised.sla["first_response_due"] == iso(created + timedelta(minutes=20))
    assert trail(runtime, 1, "priority") == [("medium", "high", "router")]
