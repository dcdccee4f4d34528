"""Spans of time the report rollup keeps (``report_blocks``), and how a report's range is cut
into them.

Time is counted in quarter hours since the Unix epoch (UTC). A block of level ``L`` holds the
quarters ``[block * 2**L, (block + 1) * 2**L)``, for every level up to ``TOP_LEVEL``; a range
of whole quarters is then a union of at most about ``2 * TOP_LEVEL`` blocks (:func:`dyadic`),
whatever its length and wherever it starts. Quarter hours because every UTC offset in use
today is a multiple of 15 minutes (India +5:30, Nepal +5:45, Chatham +12:45 included): a
local day or week in any time zone is whole quarters, so ``group_by=day|week`` reads the
``all`` blocks of each local day. The other groups only need their range's two ends, so
their blocks start at ``DIM_LEVEL`` (4 hours). What a range has outside whole blocks (the
part of a quarter, or of 4 hours, at its ends; a local midnight off the quarter, as some
zones had before the 1970s) is an *edge*, read from the ticket rows themselves.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo

from routing.calendar import as_utc

QUARTER = timedelta(minutes=15)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TOP_LEVEL = 16   # 2**16 quarters: 682 days, more than a report's range (366 days)
DIM_LEVEL = 4    # channel, priority, agent and tag blocks: 2**4 quarters = 4 hours and more
LEVEL_SHIFT = 40  # span = level << 40 | block (quarters since 1970 need 21 bits today)

Edge = tuple[datetime, datetime]


def span(level: int, block: int) -> int:
    return level << LEVEL_SHIFT | block


def quarter_of(moment: datetime) -> int:
    """The quarter holding ``moment``."""
    return (as_utc(moment) - EPOCH) // QUARTER


def _quarter_ceil(moment: datetime) -> int:
    return -((EPOCH - as_utc(moment)) // QUARTER)


def moment_of(quarter: int) -> datetime:
    return EPOCH + quarter * QUARTER


def dyadic(low: int, high: int, min_level: int) -> list[int]:
    """The spans of the fewest aligned blocks making up quarters ``[low, high)`` (both
    multiples of ``2**min_level``)."""
    spans = []
    while low < high:
        level = min_level
        while (level < TOP_LEVEL and low % (2 << level) == 0
               and low + (2 << level) <= high):
            level += 1
        spans.append(span(level, low >> level))
        low += 1 << level
    return spans


def cover(start: datetime, end: datetime, min_level: int) -> tuple[list[int], list[Edge]]:
    """The blocks within ``[start, end)`` and the edges they leave."""
    unit = 1 << min_level
    low = -(-_quarter_ceil(start) // unit) * unit
    high = quarter_of(end) // unit * unit
    if low >= high:
        return [], [(start, end)]
    edges = [(start, moment_of(low)), (moment_of(high), end)]
    return dyadic(low, high, min_level), [(a, b) for a, b in edges if a < b]


def periods(start: datetime, end: datetime, group_by: str,
            tz: tzinfo) -> list[tuple[str, datetime, datetime]]:
    """The local days (or ISO weeks, by their Monday) that ``[start, end)`` meets, each as its
    label and its part of the range in UTC."""
    first = as_utc(start).astimezone(tz).date()
    step = timedelta(days=7 if group_by == "week" else 1)
    if group_by == "week":
        first -= timedelta(days=first.weekday())
    found, day = [], first
    while (begins := _midnight(day, tz)) < end:
        finish = _midnight(day + step, tz)
        found.append((day.isoformat(), max(begins, as_utc(start)), min(finish, as_utc(end))))
        day += step
    return found


def _midnight(day: date, tz: tzinfo) -> datetime:
    """The first moment of local ``day`` (a midnight skipped by a clock change: the change)."""
    return as_utc(datetime.combine(day, time(), tz))
