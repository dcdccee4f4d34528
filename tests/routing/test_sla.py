"""SLA targets and due times: duration parsing, each due-time rule, pausing across a weekend,
breach and near-breach, the API shape. The office calendar is 09:00-17:00 Mon-Fri in Prague;
2024-03-04 is a Monday."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from routing.calendar import Calendar
from routing.calendar_input import calendar_of
from routing.sla import (Clock, Due, SlaIn, SlaStatus, Targets, as_json, due_times,
                         parse_duration, pause, resume, status)

UTC = timezone.utc
PRAGUE = ZoneInfo("Europe/Prague")
HOUR = 3600
OFFICE = calendar_of({"timezone": "Europe/Prague",
                              "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu",
                                                                     "fri")}})
TARGETS = Targets(first_response=4 * HOUR, next_response=HOUR, resolution=48 * HOUR)


def prague(*args) -> datetime:
    return datetime(*args, tzinfo=PRAGUE)


# --- durations -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    (90, 90), ("30m", 1800), ("4h", 4 * HOUR), ("2d", 48 * HOUR), ("1h30m", 5400),
    ("1d 2h", 26 * HOUR), ("45s", 45), ("2H", 2 * HOUR), ("1d2h3m4s", 93784), ("366d", 366 * 86400),
])
def test_durations_are_whole_seconds_or_unit_strings(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("value, message", [
    ("", "is not a duration"), ("soon", "is not a duration"), ("30", "is not a duration"),
    ("1.5h", "is not a duration"), ("30m1h", "is not a duration"), ("h", "is not a duration"),
    ("-5m", "is not a duration"), ("\u0663h", "is not a duration"), (0, "from 1 s to 366d"),
    (-5, "from 1 s to 366d"),
    ("0m", "from 1 s to 366d"), ("367d", "from 1 s to 366d"), (True, "whole seconds"),
    (1.5, "whole seconds"), (None, "whole seconds"), ([60], "whole seconds"),
])
def test_bad_durations_give_a_clear_error(value, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(value)


# --- the policy schema -----------------------------------------------------------------------

def test_a_policy_gives_seconds_per_priority_and_nothing_for_a_missing_one():
    policy = SlaIn.model_validate({"calendar": "office", "urgent": {"first_response": "15m"},
                                   "medium": {"first_response": "4h", "next_response": 3600,
                                              "resolution": "3d"}})
    assert policy.targets("urgent") == Targets(first_response=900)
    assert policy.targets("medium") == Targets(4 * HOUR, HOUR, 72 * HOUR)
    assert policy.targets("low") == Targets()
    assert policy.near_breach == 0.8 and policy.calendar == "office"


def test_an_unknown_priority_is_an_error():
    with pytest.raises(ValueError, match="unknown priority 'critical'"):
        SlaIn().targets("critical")


@pytest.mark.parametrize("data, message", [
    ({"medium": {"first_response": "4 hours"}}, "medium.first_response\n.*is not a duration"),
    ({"high": {"resolve": "4h"}}, "high.resolve\n  Extra inputs"),
    ({"normal": {"first_response": "4h"}}, "normal\n  Extra inputs"),
    ({"near_breach": 1}, "near_breach\n  Input should be less than 1"),
    ({"near_breach": 0}, "near_breach\n  Input should be greater than 0"),
])
def test_bad_policies_name_the_path(data, message):
    with pytest.raises(ValidationError, match=message):
        SlaIn.model_validate(data)


# --- due times -------------------------------------------------------------------------------

def test_first_response_is_due_target_business_time_after_creation():
    due = due_times(TARGETS, OFFICE, Clock(created_at=prague(2024, 3, 4, 16)))
    assert due.first_response_due == prague(2024, 3, 5, 12)
    assert due.next_response_due is None


def test_first_response_is_not_due_once_answered():
    clock = Clock(created_at=prague(2024, 3, 4, 16), first_response_at=prague(2024, 3, 4, 16, 5))
    assert due_times(TARGETS, OFFICE, clock).first_response_due is None


def test_time_spent_postponed_moves_first_response_and_resolution_later():
    clock = Clock(created_at=prague(2024, 3, 4, 9), paused_s=2 * HOUR)
    due = due_times(TARGETS, OFFICE, clock)
    assert due.first_response_due == prague(2024, 3, 4, 15)
    assert due.resolution_due == prague(2024, 3, 12, 11)


def test_resolution_is_due_target_business_time_after_creation():
    due = due_times(TARGETS, OFFICE, Clock(created_at=prague(2024, 3, 4, 9)))
    assert due.resolution_due == prague(2024, 3, 11, 17)  # 48 business hours = six workdays


def test_next_response_is_due_when_the_customer_wrote_after_the_last_agent_reply():
    clock = Clock(created_at=prague(2024, 3, 4, 9), first_response_at=prague(2024, 3, 4, 10),
                  last_agent_at=prague(2024, 3, 5, 11), last_customer_at=prague(2024, 3, 5, 16, 30))
    assert due_times(TARGETS, OFFICE, clock).next_response_due == prague(2024, 3, 6, 9, 30)


def test_next_response_counts_the_first_response_as_an_agent_reply():
    clock = Clock(created_at=prague(2024, 3, 4, 9), first_response_at=prague(2024, 3, 4, 10),
                  last_customer_at=prague(2024, 3, 4, 12))
    assert due_times(TARGETS, OFFICE, clock).next_response_due == prague(2024, 3, 4, 13)


@pytest.mark.parametrize("clock", [
    Clock(created_at=prague(2024, 3, 4, 9), last_customer_at=prague(2024, 3, 4, 12)),
    Clock(created_at=prague(2024, 3, 4, 9), first_response_at=prague(2024, 3, 4, 10),
          last_customer_at=prague(2024, 3, 4, 9), last_agent_at=prague(2024, 3, 4, 11)),
    Clock(created_at=prague(2024, 3, 4, 9), first_response_at=prague(2024, 3, 4, 10)),
], ids=["not answered yet", "agent replied last", "customer never wrote again"])
def test_no_next_response_is_due(clock):
    assert due_times(TARGETS, OFFICE, clock).next_response_due is None


def test_a_resolved_ticket_has_nothing_due():
    clock = Clock(created_at=prague(2024, 3, 4, 9), first_response_at=prague(2024, 3, 4, 10),
                  last_customer_at=prague(2024, 3, 4, 12), resolved_at=prague(2024, 3, 4, 12, 5))
    assert due_times(TARGETS, OFFICE, clock) == Due()


def test_a_postponed_ticket_has_nothing_due():
    clock = Clock(created_at=prague(2024, 3, 4, 9), first_response_at=prague(2024, 3, 4, 10),
                  last_customer_at=prague(2024, 3, 4, 12), paused_since=prague(2024, 3, 4, 13))
    assert due_times(TARGETS, OFFICE, clock) == Due()


def test_targets_left_out_are_never_due():
    clock = Clock(created_at=prague(2024, 3, 4, 9), first_response_at=prague(2024, 3, 4, 10),
                  last_customer_at=prague(2024, 3, 4, 12))
    assert due_times(Targets(), OFFICE, clock) == Due()


def test_without_a_calendar_targets_run_around_the_clock():
    created = datetime(2024, 3, 9, 22, tzinfo=UTC)  # a Saturday night
    due = due_times(TARGETS, Calendar.always(), Clock(created_at=created))
    assert due.first_response_due == created + timedelta(hours=4)


def test_naive_clock_times_are_read_as_utc():
    clock = Clock(created_at=datetime(2024, 3, 4, 15), first_response_at=datetime(2024, 3, 4, 15),
                  last_customer_at=datetime(2024, 3, 4, 15, 30),
                  last_agent_at=datetime(2024, 3, 4, 15, 10))
    assert due_times(TARGETS, OFFICE, clock).next_response_due == prague(2024, 3, 5, 9, 30)


def test_due_times_are_utc():
    due = due_times(TARGETS, OFFICE, Clock(created_at=prague(2024, 3, 4, 16)))
    assert due.first_response_due.tzinfo is UTC


# --- pause and resume ------------------------------------------------------------------------

def test_a_pause_over_the_weekend_adds_only_its_business_time():
    clock = Clock(created_at=prague(2024, 3, 8, 15))  # Friday; first response due Mon 11:00
    paused = pause(clock, prague(2024, 3, 8, 16))
    assert due_times(TARGETS, OFFICE, paused) == Due()
    resumed = resume(paused, prague(2024, 3, 11, 10), OFFICE)
    assert resumed.paused_since is None
    assert resumed.paused_s == 2 * HOUR  # Fri 16-17 and Mon 9-10
    assert due_times(TARGETS, OFFICE, resumed).first_response_due == prague(2024, 3, 11, 13)


def test_pauses_accumulate():
    clock = Clock(created_at=prague(2024, 3, 4, 9))
    clock = resume(pause(clock, prague(2024, 3, 4, 10)), prague(2024, 3, 4, 11), OFFICE)
    clock = resume(pause(clock, prague(2024, 3, 4, 12)), prague(2024, 3, 4, 12, 30), OFFICE)
    assert clock.paused_s == 1.5 * HOUR


def test_pausing_twice_keeps_the_first_start_and_resuming_a_running_clock_changes_nothing():
    clock = pause(Clock(created_at=prague(2024, 3, 4, 9)), prague(2024, 3, 4, 10))
    assert pause(clock, prague(2024, 3, 4, 11)).paused_since == prague(2024, 3, 4, 10)
    running = Clock(created_at=prague(2024, 3, 4, 9), paused_s=60.0)
    assert resume(running, prague(2024, 3, 4, 11), OFFICE) == running


def test_resuming_before_the_pause_began_adds_nothing():
    clock = pause(Clock(created_at=prague(2024, 3, 4, 9)), prague(2024, 3, 4, 10))
    assert resume(clock, prague(2024, 3, 4, 9, 59), OFFICE).paused_s == 0.0


# --- breach status ---------------------------------------------------------------------------

def test_a_target_is_breached_once_its_due_time_has_passed():
    due = Due(first_response_due=prague(2024, 3, 4, 12), resolution_due=prague(2024, 3, 11, 17))
    assert status(due, prague(2024, 3, 4, 12), TARGETS, 0.8, OFFICE).breached == ()
    late = status(due, prague(2024, 3, 4, 12, 0, 1), TARGETS, 0.8, OFFICE)
    assert late.breached == ("first_response",)
    assert late.near == ()


def test_near_breach_is_measured_in_business_time_left():
    due = Due(first_response_due=prague(2024, 3, 5, 9, 30))  # 4 h target: near at <= 48 min
    assert status(due, prague(2024, 3, 4, 16, 50), TARGETS, 0.8, OFFICE).near == \
        ("first_response",)  # 40 business minutes left, though 16 h of wall-clock time
    assert status(due, prague(2024, 3, 4, 16, 0), TARGETS, 0.8, OFFICE).near == ()


def test_near_breach_follows_the_policy_share():
    due = Due(next_response_due=prague(2024, 3, 4, 12))  # 1 h target
    now = prague(2024, 3, 4, 11, 40)  # 20 min left: near at 0.5 (<= 30), not at 0.8 (<= 12)
    assert status(due, now, TARGETS, 0.5, OFFICE).near == ("next_response",)
    assert status(due, now, TARGETS, 0.8, OFFICE).near == ()


def test_nothing_due_means_neither_breached_nor_near():
    assert status(Due(), prague(2030, 1, 1), TARGETS, 0.8, OFFICE) == SlaStatus()


def test_the_api_shape():
    due = Due(first_response_due=datetime(2024, 3, 4, 11, tzinfo=UTC),
              resolution_due=prague(2024, 3, 11, 17))
    assert as_json(due, SlaStatus(breached=("first_response",), near=("resolution",))) == {
        "first_response_due": "2024-03-04T11:00:00Z", "next_response_due": None,
        "resolution_due": "2024-03-11T16:00:00Z", "breached": True,
        "breaches": ["first_response"], "near": ["resolution"]}
    assert as_json(Due(), SlaStatus()) == {
        "first_response_due": None, "next_response_due": None, "resolution_due": None,
        "breached": False, "breaches": [], "near": []}
