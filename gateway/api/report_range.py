"""The parameters every report takes (``gateway.api.reports``): the range, its time zone and
the hours counted.

``from`` and ``to`` are an ISO 8601 date (a local day in ``tz``; ``to`` includes it) or a date
and time (with an offset, else local time in ``tz``); by default the last ``DEFAULT_DAYS`` days
up to now. ``to`` must come after ``from`` and the range span at most ``MAX_DAYS`` days (of
wall-clock time in ``tz``). ``tz`` is an IANA time zone name (default UTC). ``hours`` is
``calendar`` or ``business``. Every invalid parameter is named in a 400.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, Field

from gateway.api.params import MAX_TEXT_PARAM
from gateway.errors import bad_request
from routing.calendar import as_utc
from store.models import utcnow
from tickets.reports import HOURS

MAX_DAYS = 366
DEFAULT_DAYS = 30
ZONES = frozenset(available_timezones())


class RangeParams(BaseModel):
    """The range parameters as the OpenAPI document shows them."""
    from_: str = Field("", alias="from", max_length=MAX_TEXT_PARAM, description=(
        "start: `YYYY-MM-DD` (local midnight in `tz`) or an ISO 8601 date and time "
        f"(default: {DEFAULT_DAYS} days before `to`)"))
    to: str = Field("", max_length=MAX_TEXT_PARAM, description=(
        "end, exclusive: an ISO 8601 date and time, or `YYYY-MM-DD` (that day included); "
        f"default now; at most {MAX_DAYS} days after `from`"))
    tz: str = Field("UTC", max_length=MAX_TEXT_PARAM,
                    description="IANA time zone name, e.g. `Europe/Prague` (default UTC)")
    hours: Literal[HOURS] = Field(  # type: ignore[valid-type]
        "calendar", description="`business`: seconds counted on the ticket's SLA calendar")


@dataclass(frozen=True)
class Range:
    start: datetime  # aware UTC, inclusive
    end: datetime    # aware UTC, exclusive
    tz: ZoneInfo
    tz_name: str
    hours: str


def report_range(args, errors: dict[str, str]) -> Range:
    """The range of the query string ``args``; problems go to ``errors`` (the caller raises
    once it checked its own parameters too)."""
    hours = choice(args, "hours", HOURS, errors)
    tz_name = args.get("tz", "").strip() or "UTC"
    if tz_name not in ZONES:
        errors["tz"] = "must be an IANA time zone name, e.g. Europe/Prague"
        tz_name = "UTC"
    tz = ZoneInfo(tz_name)
    end = _moment(args, "to", tz, errors, end_of_day=True)
    start = _moment(args, "from", tz, errors, end_of_day=False)
    if "from" not in errors and "to" not in errors:
        end = end or utcnow()
        start = start or end - timedelta(days=DEFAULT_DAYS)
        if end <= start:
            errors["to"] = "must be after from"
        elif _local_days(start, end, tz) > MAX_DAYS:
            errors["to"] = f"the range must span at most {MAX_DAYS} days"
    if errors:
        return Range(utcnow(), utcnow(), tz, tz_name, hours)
    return Range(as_utc(start), as_utc(end), tz, tz_name, hours)


def checked_range(args) -> Range:
    """:func:`report_range`, a 400 naming every invalid parameter."""
    errors: dict[str, str] = {}
    found = report_range(args, errors)
    if errors:
        raise bad_request(errors)
    return found


def choice(args, name: str, allowed: tuple[str, ...], errors: dict) -> str:
    value = args.get(name, "").strip() or allowed[0]
    if value not in allowed:
        errors[name] = f"must be one of {', '.join(allowed)}"
    return value


def _moment(args, name: str, tz: ZoneInfo, errors: dict, end_of_day: bool) -> datetime | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw) + timedelta(days=1 if end_of_day else 0)
            return datetime.combine(day, time(), tz)
        moment = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):
        errors[name] = "must be an ISO 8601 date (YYYY-MM-DD) or date and time"
        return None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    try:
        as_utc(moment).astimezone(tz)  # representable in UTC and in tz, as the query needs
    except (ValueError, OverflowError):
        errors[name] = "out of range"
        return None
    return moment


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> float:
    """Days between the two as wall-clock time in ``tz`` (a DST change is no extra hour)."""
    span = end.astimezone(tz).replace(tzinfo=None) - start.astimezone(tz).replace(tzinfo=None)
    return span / timedelta(days=1)
