"""Builders shared by the calendar tests. Dates: 2024-03-04 is a Monday; Europe/Prague springs
forward on 2024-03-31 and falls back on 2024-10-27, America/New_York on 2024-03-10 and 2024-11-03."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from routing.calendar import Calendar
from routing.calendar_input import calendar_of

UTC = timezone.utc
PRAGUE, NEW_YORK = ZoneInfo("Europe/Prague"), ZoneInfo("America/New_York")
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = {day: ["09:00-17:00"] for day in WORKDAYS}
ALL_DAY = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
HOUR = 3600


def calendar(hours, tz="Europe/Prague", **extra) -> Calendar:
    return calendar_of({"timezone": tz, "hours": hours, **extra})


def prague(*args) -> datetime:
    return datetime(*args, tzinfo=PRAGUE)


def new_york(*args) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)
