"""Escalation of a breached SLA by the sweep, on SQLite and PostgreSQL: a raised priority moves
the due times to the new priority's targets (the rule a PATCH'd priority follows too), and the
re-route after a missed first response is labelled ``reroute`` in the stored explanation and
in the ``assigned`` webhook event."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from config.workspaces import parse_config
from tests.conftest import TEST_CONFIG
from tests.routing_pipeline.test_routing_pipeline import ALL_DAY, later, ticket
from tests.routing_store.helpers import webhook_changes
from tests.workers.events import mail_event
from workers.assignment import sweep
from workers.ingest.job import store_event

TEXT = "Hello, the export of last month's orders fails with an error every single time."


def routing(on_breach: list[str]) -> dict:
    return {
        "calendars": {"always": {"timezone": "UTC", "hours": ALL_DAY}},
        "agents": [{"id": "ann", "skills": {"support": 3}, "capacity": {"email": 1},
                    "status": "online"},
                   {"id": "ben", "skills": {"support": 3}, "capacity": {"email": 1},
                    "status": "online"}],
        "sla": {"default": {"calendar": "always",
                            "medium": {"first_response": "30m", "resolution": "3d"},
                            "high": {"first_response": "20m", "resolution": "1d"}}},
        "automation": {"on_breach": on_breach},
    }


def runtime_with(runtime, on_breach: list[str]):
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = routing(on_breach)
    data["workspaces"][0]["outbound"] = {"webhook": {"url": "http://127.0.0.1:9/core"}}
    runtime.config = parse_config(data)
    return runtime


def due(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def rt(runtime):
    return runtime_with(runtime, ["raise_priority"])


def test_a_priority_raised_on_breach_moves_the_due_times_to_the_new_targets(rt):
    store_event(rt, rt.config.workspace("demo"), mail_event("a@x", subject="Export", text=TEXT))
    created = ticket(rt, 1).created_at.replace(tzinfo=timezone.utc)
    assert due(ticket(rt, 1).sla["resolution_due"]) - created == timedelta(days=3)

    assert sweep.sweep(rt, now=later(minutes=31))["breaches"] == 1
    raised = ticket(rt, 1)
    assert raised.priority == "high"
    assert abs(due(raised.sla["resolution_due"]) - created - timedelta(days=1)) < timedelta(
        seconds=1)
    assert raised.sla["breaches"] == ["first_response"]


def test_the_reroute_after_a_missed_first_response_is_labelled_reroute(runtime):
    rt = runtime_with(runtime, ["reroute"])
    store_event(rt, rt.config.workspace("demo"), mail_event("a@x", subject="Export", text=TEXT))
    first = ticket(rt, 1).assignee
    assert first in ("ann", "ben")

    sweep.sweep(rt, now=later(minutes=31))
    moved = ticket(rt, 1)
    assert moved.assignee not in (None, first)
    assert moved.routing_reason["trigger"] == "reroute"
    assert (1, {"kind": "assigned", "agent": moved.assignee, "trigger": "reroute"}) \
        in webhook_changes(rt)
