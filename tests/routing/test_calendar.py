"""Business-hours calendars: opening hours, holidays, DST days, next_open/next_change, input
errors (business-time arithmetic: test_calendar_arithmetic.py; dates: calendar_helpers.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from routing.calendar import Calendar
from routing.calendar_input import CalendarIn, calendar_of
from tests.routing.calendar_helpers import (ALL_DAY, HOUR, NEW_YORK, OFFICE, PRAGUE, UTC,
                                            calendar, new_york, prague)

# --- opening hours -------------------------------------------------------------------------

def test_open_on_weekdays_within_hours_closed_outside_and_at_weekends():
    office = calendar(OFFICE)
    assert office.is_open(prague(2024, 3, 4, 9, 0))
    assert office.is_open(prague(2024, 3, 8, 16, 59, 59))
    assert not office.is_open(prague(2024, 3, 4, 8, 59, 59))
    assert not office.is_open(prague(2024, 3, 4, 17, 0))  # the end is exclusive
    assert not office.is_open(prague(2024, 3, 9, 12, 0))  # Saturday


def test_hours_are_local_wall_clock_not_utc():
    office = calendar(OFFICE)
    assert office.is_open(datetime(2024, 3, 4, 8, 30, tzinfo=UTC))  # 09:30 CET
    assert not office.is_open(datetime(2024, 3, 4, 16, 30, tzinfo=UTC))  # 17:30 CET


def test_naive_datetimes_are_read_as_utc():
    office = calendar(OFFICE)
    assert office.is_open(datetime(2024, 3, 4, 8, 30))
    assert office.next_open(datetime(2024, 3, 4, 7, 0)) == datetime(2024, 3, 4, 8, 0, tzinfo=UTC)


def test_several_intervals_per_day_leave_the_gaps_closed():
    lunch = calendar({"mon": ["13:00-17:00", "09:00-12:00"]})
    assert lunch.is_open(prague(2024, 3, 4, 11, 59))
    assert not lunch.is_open(prague(2024, 3, 4, 12, 30))
    assert lunch.is_open(prague(2024, 3, 4, 13, 0))
    assert lunch.business_seconds(prague(2024, 3, 4), prague(2024, 3, 5)) == 7 * HOUR
    assert lunch.next_change(prague(2024, 3, 4, 10, 0)) == prague(2024, 3, 4, 12, 0)


def test_adjacent_intervals_join_into_one_opening():
    joined = calendar({"mon": ["13:00-17:00", "09:00-13:00"]})
    assert joined.next_change(prague(2024, 3, 4, 10, 0)) == prague(2024, 3, 4, 17, 0)


def test_end_at_24_00_runs_to_midnight_and_joins_the_next_day():
    night = calendar({"mon": ["20:00-24:00"], "tue": ["00:00-02:00"]})
    assert night.is_open(prague(2024, 3, 4, 23, 59, 59))
    assert night.is_open(prague(2024, 3, 5, 0, 0))
    assert night.next_change(prague(2024, 3, 4, 21, 0)) == prague(2024, 3, 5, 2, 0)
    assert night.business_seconds(prague(2024, 3, 4, 20), prague(2024, 3, 5, 3)) == 6 * HOUR


def test_always_open_calendar():
    always = Calendar.always()
    assert always.is_open(datetime(2024, 3, 9, 3, 0, tzinfo=UTC))
    assert always.next_change(datetime(2024, 3, 9, tzinfo=UTC)) is None
    start = datetime(2024, 3, 9, 3, 0, tzinfo=UTC)
    assert always.add_business(start, 3 * 86400) == start + timedelta(days=3)


# --- holidays --------------------------------------------------------------------------------

def test_holidays_close_the_whole_local_day():
    office = calendar(OFFICE, holidays=["2024-03-06"])
    assert not office.is_open(prague(2024, 3, 6, 10, 0))
    assert office.next_open(prague(2024, 3, 5, 18, 0)) == prague(2024, 3, 7, 9, 0)


def test_holiday_ranges_include_both_ends():
    office = calendar(OFFICE, holiday_ranges=[{"start": "2024-03-05", "end": "2024-03-07"}])
    assert office.next_open(prague(2024, 3, 4, 18, 0)) == prague(2024, 3, 8, 9, 0)


def test_holidays_follow_the_local_date_not_the_utc_date():
    shop = calendar(ALL_DAY, "America/New_York", holidays=["2024-03-06"])
    assert not shop.is_open(datetime(2024, 3, 7, 3, 0, tzinfo=UTC))  # Mar 6, 22:00 local
    assert shop.is_open(datetime(2024, 3, 6, 3, 0, tzinfo=UTC))  # Mar 5, 22:00 local
    assert shop.next_change(new_york(2024, 3, 5, 12)) == new_york(2024, 3, 6, 0, 0)
    assert shop.next_change(new_york(2024, 3, 6, 12)) == new_york(2024, 3, 7, 0, 0)


# --- DST -------------------------------------------------------------------------------------

@pytest.mark.parametrize("tz, day, hours", [
    (PRAGUE, date(2024, 3, 31), 23), (PRAGUE, date(2024, 10, 27), 25),
    (NEW_YORK, date(2024, 3, 10), 23), (NEW_YORK, date(2024, 11, 3), 25),
    (PRAGUE, date(2024, 3, 30), 24),
])
def test_a_whole_day_lasts_as_long_as_the_local_clock_says(tz, day, hours):
    around_the_clock = calendar({"sun": ["00:00-24:00"], "sat": ["00:00-24:00"]}, tz.key)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    assert around_the_clock.business_seconds(start, end) == hours * HOUR
    assert around_the_clock.add_business(start, hours * HOUR) == end.astimezone(UTC)


@pytest.mark.parametrize("tz, monday", [(PRAGUE, date(2024, 4, 1)), (PRAGUE, date(2024, 10, 28)),
                                        (NEW_YORK, date(2024, 3, 11)),
                                        (NEW_YORK, date(2024, 11, 4))])
def test_office_hours_keep_their_wall_clock_across_a_dst_weekend(tz, monday):
    office = calendar(OFFICE, tz.key)
    friday = monday - timedelta(days=3)
    nine = datetime.combine(monday, datetime.min.time(), tzinfo=tz) + timedelta(hours=9)
    assert office.next_open(datetime.combine(friday, datetime.min.time(), tzinfo=tz)
                            + timedelta(hours=18)) == nine.astimezone(UTC)
    assert office.business_seconds(nine - timedelta(hours=9), nine + timedelta(hours=15)) \
        == 8 * HOUR
    friday_four = datetime.combine(friday, datetime.min.time(), tzinfo=tz) + timedelta(hours=16)
    assert office.add_business(friday_four, 2 * HOUR) == (nine + timedelta(hours=1)).astimezone(UTC)


def test_the_same_utc_time_is_inside_hours_after_spring_forward_and_outside_before():
    office = calendar(OFFICE)
    assert not office.is_open(datetime(2024, 3, 29, 7, 30, tzinfo=UTC))  # Friday 08:30 CET
    assert office.is_open(datetime(2024, 4, 1, 7, 30, tzinfo=UTC))  # Monday 09:30 CEST


def test_a_boundary_in_the_skipped_hour_means_the_end_of_the_gap():
    early = calendar({"sun": ["02:30-05:00"]})
    assert early.next_open(prague(2024, 3, 30)) == datetime(2024, 3, 31, 1, 0, tzinfo=UTC)
    assert early.business_seconds(prague(2024, 3, 31), prague(2024, 4, 1)) == 2 * HOUR


def test_intervals_around_the_skipped_hour_neither_overlap_nor_leave_a_hole():
    split = calendar({"sun": ["00:00-02:30", "03:00-05:00"]})
    assert split.business_seconds(prague(2024, 3, 31), prague(2024, 4, 1)) == 4 * HOUR
    assert split.next_change(prague(2024, 3, 31, 1, 0)) == prague(2024, 3, 31, 5, 0)


def test_an_interval_inside_the_skipped_hour_is_empty():
    early = calendar({"sun": ["02:00-02:45", "04:00-05:00"]})
    assert early.next_open(prague(2024, 3, 30)) == prague(2024, 3, 31, 4, 0)
    assert early.business_seconds(prague(2024, 3, 31), prague(2024, 4, 1)) == HOUR
    assert early.business_seconds(prague(2024, 3, 24), prague(2024, 3, 25)) == 1.75 * HOUR


def test_a_boundary_in_the_repeated_hour_means_its_first_occurrence():
    early = calendar({"sun": ["02:30-03:00"]})
    assert early.next_open(prague(2024, 10, 26)) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert early.next_change(datetime(2024, 10, 27, 0, 45, tzinfo=UTC)) == \
        datetime(2024, 10, 27, 2, 0, tzinfo=UTC)  # 03:00 CET comes after the second 02:xx
    assert early.business_seconds(prague(2024, 10, 27), prague(2024, 10, 28)) == 1.5 * HOUR


# --- next_open, next_change ------------------------------------------------------------------

def test_next_open_is_the_instant_itself_when_open():
    office = calendar(OFFICE)
    assert office.next_open(prague(2024, 3, 4, 10, 15)) == prague(2024, 3, 4, 10, 15)
    assert office.next_open(prague(2024, 3, 8, 17, 0)) == prague(2024, 3, 11, 9, 0)


def test_next_change_closes_then_opens():
    office = calendar(OFFICE)
    assert office.next_change(prague(2024, 3, 8, 12, 0)) == prague(2024, 3, 8, 17, 0)
    assert office.next_change(prague(2024, 3, 8, 17, 0)) == prague(2024, 3, 11, 9, 0)


def test_a_calendar_without_hours_never_opens():
    closed = Calendar(UTC, ((),) * 7)
    at = datetime(2024, 3, 4, tzinfo=UTC)
    assert not closed.is_open(at)
    assert closed.next_open(at) is None
    assert closed.next_change(at) is None
    with pytest.raises(ValueError, match="no opening hours"):
        closed.add_business(at, 60)


def test_years_of_holidays_give_a_clear_error_instead_of_a_long_scan():
    ranges = [{"start": str(date(2024 + n, 1, 1)), "end": str(date(2024 + n, 12, 31))}
              for n in range(4)]
    closed = calendar(OFFICE, holiday_ranges=ranges)
    with pytest.raises(ValueError, match="no business hours for 1098 days"):
        closed.next_open(prague(2024, 1, 1))
    with pytest.raises(ValueError, match="no business hours"):
        closed.add_business(prague(2024, 1, 1), 60)
    assert closed.next_open(prague(2027, 12, 31)) == prague(2028, 1, 3, 9, 0)


# --- input errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    ({"timezone": "Mars/Olympus", "hours": OFFICE}, "unknown time zone 'Mars/Olympus'"),
    ({"timezone": "", "hours": OFFICE}, "unknown time zone ''"),
    ({"timezone": "Europe", "hours": OFFICE}, "unknown time zone 'Europe'"),
    ({"timezone": "../../etc/passwd", "hours": OFFICE}, "unknown time zone"),
    ({"timezone": "x" * 300, "hours": OFFICE}, "unknown time zone 'xxx"),
    ({"timezone": "Europe/Prague", "hours": {"mon": ["9-17"]}}, "mon: '9-17' is not an interval"),
    ({"timezone": "Europe/Prague", "hours": {"mon": ["\u0660\u0669:00-17:00"]}}, "not an interval"),
    ({"timezone": "Europe/Prague", "hours": {"tue": ["17:00-09:00"]}},
     "tue: '17:00-09:00': the end must be after the start"),
    ({"timezone": "Europe/Prague", "hours": {"wed": ["09:00-09:00"]}}, "wed: .*end must be after"),
    ({"timezone": "Europe/Prague", "hours": {"thu": ["24:00-24:00"]}}, "thu: .*from 00:00 to"),
    ({"timezone": "Europe/Prague", "hours": {"fri": ["09:00-24:30"]}}, "fri: .*from 00:00 to"),
    ({"timezone": "Europe/Prague", "hours": {"sat": ["09:60-10:00"]}}, "sat: .*from 00:00 to"),
    ({"timezone": "Europe/Prague", "hours": {"sun": ["09:00-12:00", "11:00-13:00"]}},
     "sun: '09:00-12:00' and '11:00-13:00' overlap"),
    ({"timezone": "Europe/Prague", "hours": {"monday": ["09:00-17:00"]}}, "hours.monday"),
    ({"timezone": "Europe/Prague", "hours": {}}, "no opening hours"),
    ({"timezone": "Europe/Prague", "hours": {"mon": []}}, "no opening hours"),
    ({"timezone": "Europe/Prague"}, "hours\n  Field required"),
    ({"timezone": "Europe/Prague", "hours": OFFICE, "tz": "UTC"}, "tz\n  Extra inputs"),
    ({"timezone": "Europe/Prague", "hours": OFFICE, "holidays": ["2024-02-30"]}, "holidays.0"),
    ({"timezone": "Europe/Prague", "hours": OFFICE,
      "holiday_ranges": [{"start": "2024-03-05", "end": "2024-03-01"}]},
     "holiday_ranges.0\n.*end 2024-03-01 is before start 2024-03-05"),
    ({"timezone": "Europe/Prague", "hours": OFFICE,
      "holiday_ranges": [{"start": "2024-01-01", "end": "2025-01-01"}]}, "at most 366 days"),
])
def test_bad_input_gives_an_error_naming_the_problem(data, message):
    with pytest.raises(ValidationError, match=message):
        CalendarIn.model_validate(data)


def test_a_week_must_have_seven_days():
    with pytest.raises(ValueError, match="7 days"):
        Calendar(UTC, (((0, 60),),) * 5)


def test_build_and_calendar_of_give_the_same_calendar():
    data = {"timezone": "Europe/Prague", "hours": OFFICE, "holidays": ["2024-03-06"],
            "holiday_ranges": [{"start": "2024-12-24", "end": "2024-12-26"}]}
    built = CalendarIn.model_validate(data).build()
    assert built == calendar_of(data)
    assert built.holidays == {date(2024, 3, 6), date(2024, 12, 24), date(2024, 12, 25),
                              date(2024, 12, 26)}


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.just("Europe/Prague"), st.text(max_size=300)),
       st.lists(st.one_of(st.from_regex(r"\d{1,2}:\d{2}-\d{1,2}:\d{2}", fullmatch=True),
                          st.text(max_size=20)), max_size=4))
def test_any_text_gives_a_calendar_or_a_validation_error(zone, intervals):
    try:
        built = CalendarIn.model_validate({"timezone": zone, "hours": {"mon": intervals}}).build()
    except ValidationError:
        return
    assert built.week[0] and not any(built.week[1:])


# --- the spans a calendar keeps computed --------------------------------------------------

def test_kept_day_spans_are_those_computed_afresh_across_dst_and_holidays(monkeypatch):
    office = calendar_of({"timezone": "Europe/Prague",
                                  "hours": {d: ["00:00-02:30", "09:00-17:00"]
                                            for d in ("mon", "tue", "wed", "thu", "fri", "sun")},
                                  "holidays": ["2024-03-29"]})
    days = [date(2024, 3, 28) + timedelta(days=n) for n in range(5)]  # holiday, DST on 31st
    fresh = [tuple(office._compute_day_spans(day)) for day in days]
    assert [office._day_spans(day) for day in days] == fresh
    assert [office._day_spans(day) for day in days] == fresh  # now from what was kept
    assert fresh[1] == () and len(fresh[3]) == 2  # the holiday; the DST Sunday still opens
    monkeypatch.setattr("routing.calendar.DAYS_KEPT", 3)
    office._day_spans(date(2024, 4, 10))
    assert len(office._days) <= 3  # bounded: a long scan does not keep every day


def test_kept_spans_change_neither_equality_nor_hash():
    one, other = calendar(OFFICE), calendar(OFFICE)
    one.is_open(prague(2024, 3, 4, 9, 0))
    assert one == other and hash(one) == hash(other)
    assert Calendar.always() is Calendar.always()  # one instance keeps its spans
