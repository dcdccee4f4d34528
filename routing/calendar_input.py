"""Business-hours calendars as written in the workspace file: the input schema and its parsing.

    timezone: Europe/Prague
    hours: {mon: ["09:00-12:00", "13:00-17:00"], sat: ["10:00-14:00"]}   # end may be 24:00
    holidays: [2024-12-24, 2024-12-25]
    holiday_ranges: [{start: 2024-12-27, end: 2024-12-31}]              # inclusive

Every error names what is wrong (the interval, the day, the zone); ``CalendarIn.build`` and
``calendar_of`` give the ``routing.calendar.Calendar`` that does the arithmetic.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator

from routing.calendar import DAY_MINUTES, Calendar, Interval
from routing.schema import Strict

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RANGE_DAYS = 366  # longest holiday range accepted, in days
_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", re.ASCII)


def load_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as "
                         f"'Europe/Prague' or 'UTC'") from None


def parse_interval(text: str) -> Interval:
    """``"09:00-17:00"`` -> (540, 1020); the end may be ``24:00``."""
    match = _INTERVAL.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an interval like '09:00-17:00'")
    start_h, start_m, end_h, end_m = map(int, match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_h > 23 or start_m > 59 or end_m > 59 or end > DAY_MINUTES:
        raise ValueError(f"{text!r}: times run from 00:00 to 24:00")
    if end <= start:
        raise ValueError(f"{text!r}: the end must be after the start "
                         f"(split a shift over midnight at 24:00)")
    return start, end


def parse_day(day: str, texts: list[str]) -> tuple[Interval, ...]:
    """The intervals of one weekday, sorted, adjacent ones joined; overlaps name the day."""
    try:
        intervals = sorted((parse_interval(text), text) for text in texts)
    except ValueError as error:
        raise ValueError(f"{day}: {error}") from None
    joined: list[Interval] = []
    previous = ""
    for (start, end), text in intervals:
        if joined and start < joined[-1][1]:
            raise ValueError(f"{day}: {previous!r} and {text!r} overlap")
        if joined and start == joined[-1][1]:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
        previous = text
    return tuple(joined)



class HolidayRangeIn(Strict):
    """Consecutive closed local dates, both ends included."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days >= MAX_RANGE_DAYS:
            raise ValueError(f"a holiday range spans at most {MAX_RANGE_DAYS} days")
        return self

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


class CalendarIn(Strict):
    """A calendar as written in the workspace file (see the module docstring)."""

    timezone: str
    hours: dict[Literal[WEEKDAYS], list[str]]  # type: ignore[valid-type]
    holidays: list[date] = []
    holiday_ranges: list[HolidayRangeIn] = []

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        load_zone(value)
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if not any(parse_day(day, texts) for day, texts in value.items()):
            raise ValueError("no opening hours: give at least one day an interval")
        return value

    def build(self) -> Calendar:
        week = tuple(parse_day(day, self.hours.get(day, [])) for day in WEEKDAYS)
        closed = set(self.holidays)
        for holiday_range in self.holiday_ranges:
            closed.update(holiday_range.dates())
        return Calendar(load_zone(self.timezone), week, frozenset(closed))



def calendar_of(data: CalendarIn | dict) -> Calendar:
    """The calendar of a workspace file's entry, validated first when given as a dict."""
    spec = data if isinstance(data, CalendarIn) else CalendarIn.model_validate(data)
    return spec.build()
