"""Business-time arithmetic of calendars: add_business and business_seconds, by example and as
properties (they invert each other; next_change is the next flip of the open state)."""
from __future__ import annotations

import math
import time
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.calendar import Calendar
from tests.routing.calendar_helpers import ALL_DAY, HOUR, OFFICE, UTC, calendar, prague

# --- add_business, business_seconds ----------------------------------------------------------

def test_add_business_skips_nights_and_weekends():
    office = calendar(OFFICE)
    assert office.add_business(prague(2024, 3, 8, 16, 0), 2 * HOUR) == prague(2024, 3, 11, 10, 0)
    assert office.add_business(prague(2024, 3, 4, 16, 0), 2 * HOUR) == prague(2024, 3, 5, 10, 0)


def test_add_business_from_a_closed_time_counts_from_the_next_opening():
    office = calendar(OFFICE)
    assert office.add_business(prague(2024, 3, 9, 12, 0), HOUR) == prague(2024, 3, 11, 10, 0)
    assert office.add_business(prague(2024, 3, 9, 12, 0), 0) == prague(2024, 3, 11, 9, 0)


def test_add_ten_business_days_over_weekends_and_a_holiday():
    assert calendar(OFFICE).add_business(prague(2024, 3, 4, 9), 80 * HOUR) == \
        prague(2024, 3, 15, 17, 0)
    with_holiday = calendar(OFFICE, holidays=["2024-03-06"])
    assert with_holiday.add_business(prague(2024, 3, 4, 9), 80 * HOUR) == \
        prague(2024, 3, 18, 17, 0)


def test_a_year_of_business_time_takes_interval_steps_not_minute_steps():
    office = calendar(OFFICE, holidays=["2024-12-24", "2024-12-25"])
    start = prague(2024, 3, 4, 9)
    began = time.process_time()  # CPU: the work done, not the busy machine
    end = office.add_business(start, 250 * 8 * HOUR)
    assert time.process_time() - began < 1.0
    assert office.business_seconds(start, end) == 250 * 8 * HOUR
    assert end == prague(2025, 2, 18, 17, 0)  # 250th weekday counting from Monday, not holidays


@pytest.mark.parametrize("seconds", [-1, math.nan, math.inf, 1e12])
def test_add_business_rejects_impossible_amounts(seconds):
    with pytest.raises(ValueError, match="business seconds must be within"):
        calendar(OFFICE).add_business(prague(2024, 3, 4, 9), seconds)


def test_business_seconds_rejects_an_end_before_the_start():
    with pytest.raises(ValueError, match="is before start"):
        calendar(OFFICE).business_seconds(prague(2024, 3, 5), prague(2024, 3, 4))


def test_business_seconds_counts_partial_intervals_at_both_ends():
    office = calendar(OFFICE)
    assert office.business_seconds(prague(2024, 3, 4, 16, 30), prague(2024, 3, 5, 9, 15)) == \
        45 * 60
    assert office.business_seconds(prague(2024, 3, 9), prague(2024, 3, 10)) == 0


# --- properties ------------------------------------------------------------------------------

CALENDARS = [
    calendar(OFFICE, holidays=["2024-03-06", "2024-12-24"]),
    calendar({"mon": ["09:00-12:00", "13:00-17:30"], "sat": ["22:00-24:00"],
              "sun": ["00:00-01:30", "02:30-04:00", "05:00-06:00"]}, "America/New_York"),
    calendar({"sun": ["00:00-02:30", "03:00-24:00"], "wed": ["01:30-03:30"]}),
    Calendar.always(),
]
INSTANTS = st.datetimes(datetime(2023, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CALENDARS), INSTANTS, st.floats(0, 60 * 86400))
def test_business_seconds_inverts_add_business(cal, start, seconds):
    end = cal.add_business(start, seconds)
    assert end >= start
    assert abs(cal.business_seconds(start, end) - seconds) <= 1e-6


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CALENDARS), INSTANTS)
def test_next_change_flips_the_state_and_nothing_changes_before_it(cal, at):
    change = cal.next_change(at)
    if change is None:
        assert cal.is_open(at) and cal.business_seconds(at, at + timedelta(days=30)) == 30 * 86400
        return
    assert change > at
    assert cal.is_open(change) != cal.is_open(at)
    expected = (change - at).total_seconds() if cal.is_open(at) else 0
    assert cal.business_seconds(at, change) == expected
    assert (cal.next_open(at) == at) == cal.is_open(at)


# --- open around the clock: business time is wall time ---------------------------------------

def _walking(cal: Calendar) -> Calendar:
    """The same calendar with its around-the-clock shortcut off: the span walk answers."""
    twin = Calendar(cal.tz, cal.week, cal.holidays)
    object.__setattr__(twin, "_around_the_clock", False)
    return twin


AROUND_THE_CLOCK = [calendar(ALL_DAY, zone) for zone in
                    ("Europe/Prague", "America/New_York", "Australia/Lord_Howe", "UTC")]


def test_only_a_calendar_open_every_minute_without_holidays_takes_the_shortcut():
    assert Calendar.always()._around_the_clock
    assert all(cal._around_the_clock for cal in AROUND_THE_CLOCK)
    assert not calendar(ALL_DAY, holidays=["2024-12-24"])._around_the_clock
    assert not calendar({**ALL_DAY, "sun": ["00:00-23:59"]})._around_the_clock
    assert not calendar(OFFICE)._around_the_clock


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(AROUND_THE_CLOCK), INSTANTS, st.floats(0, 60 * 86400),
       st.floats(0, 90 * 86400))
def test_around_the_clock_answers_as_the_span_walk(cal, start, seconds, span):
    walking = _walking(cal)
    end = start + timedelta(seconds=span)
    assert cal.add_business(start, seconds) == walking.add_business(start, seconds)
    assert cal.business_seconds(start, end) == walking.business_seconds(start, end)
    assert cal.is_open(start) and walking.is_open(start)
    assert cal.next_open(start) == walking.next_open(start) == start

