"""Business-hours calendars: when a workspace or an agent is open, and business-time arithmetic.

A calendar is weekly opening hours in the local wall-clock time of one IANA time zone, minus
holidays (local dates, closed all day)::

    timezone: Europe/Prague
    hours: {mon: ["09:00-12:00", "13:00-17:00"], sat: ["10:00-14:00"]}   # end may be 24:00
    holidays: [2024-12-24, 2024-12-25]
    holiday_ranges: [{start: 2024-12-27, end: 2024-12-31}]              # inclusive

A weekday left out is closed. A workspace without a calendar uses :meth:`Calendar.always`.
The input schema and its parsing are ``routing.calendar_input``.

Instants in are timezone-aware datetimes (a naive one is read as UTC, as SQLite returns them);
instants out are UTC. Hours are wall-clock time, so a DST day is as long as its clock says:
00:00-24:00 lasts 23 h on a spring-forward day and 25 h on a fall-back day, 09:00-17:00 stays
8 h. A boundary inside the skipped hour means the first instant after the gap; one inside the
repeated hour means its first occurrence. The arithmetic walks open spans (a few per day), never
minutes; a search gives up with ValueError after SCAN_DAYS without an opening.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo

UTC = timezone.utc
DAY_MINUTES = 24 * 60
SCAN_DAYS = 3 * 366  # days a search looks ahead (closed for next_open, open for next_change)
MAX_BUSINESS_S = 10 * 366 * 86400  # largest amount add_business accepts, in seconds
ONE_DAY = timedelta(days=1)
DAYS_KEPT = 4096  # local dates whose open spans a calendar keeps computed (then it starts over)

Interval = tuple[int, int]  # [start, end) in minutes after local midnight; end <= DAY_MINUTES
Span = tuple[datetime, datetime]  # [open, close) in UTC


def as_utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Weekly hours (``week[0]`` is Monday) in ``tz``, closed on the local dates ``holidays``."""

    tz: tzinfo
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    # local date -> its open spans in UTC, computed once (``_day_spans``): the SLA clock asks
    # for the same few days for every message, and each span is a time-zone conversion
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    # open around the clock every day, no holiday: business time is wall time, in any zone
    # (a local day's span ends where the next one's begins, DST days included)
    _around_the_clock: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self):
        if len(self.week) != 7:
            raise ValueError("a week has 7 days of intervals, Monday first")
        object.__setattr__(self, "_around_the_clock", not self.holidays and all(
            hours == ((0, DAY_MINUTES),) for hours in self.week))

    @classmethod
    def always(cls) -> Calendar:
        """Open around the clock, every day (the default when no calendar is named)."""
        if cls is Calendar:
            return _ALWAYS
        return cls(UTC, (((0, DAY_MINUTES),),) * 7)

    @property
    def never_opens(self) -> bool:
        return not any(self.week)

    def is_open(self, at: datetime) -> bool:
        if self._around_the_clock:
            return True
        at = as_utc(at)
        span = next(self._spans(at, self._local_day(at)), None)
        return span is not None and span[0] <= at

    def next_open(self, at: datetime) -> datetime | None:
        """``at`` when open, else the next opening; None when the calendar has no hours."""
        if self.never_opens:
            return None
        at = as_utc(at)
        for open_at, _ in self._spans(at):
            return max(open_at, at)
        raise ValueError(f"no business hours for {SCAN_DAYS} days after {at.isoformat()}")

    def next_change(self, at: datetime) -> datetime | None:
        """The next opening or closing after ``at``; None when none comes within SCAN_DAYS
        (a calendar without hours, or one open around the clock)."""
        at = as_utc(at)
        spans = self._spans(at)
        start, end = next(spans, (None, None))
        if start is None or start > at:
            return start
        if self._open_for_good(self._local_day(at)):
            return None
        horizon = at + timedelta(days=SCAN_DAYS)
        for next_start, next_end in spans:
            if next_start > end:
                return end
            if next_start > horizon:
                return None
            end = next_end
        return end

    def add_business(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of business time have passed since ``start`` (a closed
        ``start`` counts from the next opening)."""
        if not 0 <= seconds <= MAX_BUSINESS_S:  # also rejects NaN
            raise ValueError(f"business seconds must be within 0..{MAX_BUSINESS_S}, "
                             f"got {seconds!r}")
        if self.never_opens:
            raise ValueError("the calendar has no opening hours")
        start, left = as_utc(start), timedelta(seconds=seconds)
        if self._around_the_clock:
            return start + left
        for open_at, close_at in self._spans(start):
            open_at = max(open_at, start)
            if close_at - open_at >= left:
                return open_at + left
            left -= close_at - open_at
        raise ValueError(f"no business hours for {SCAN_DAYS} days after {start.isoformat()}")

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of business time in [start, end)."""
        start, end = as_utc(start), as_utc(end)
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        if self._around_the_clock:
            return (end - start).total_seconds()
        total = timedelta()
        for open_at, close_at in self._spans(start, self._local_day(end)):
            if open_at >= end:
                break
            total += min(close_at, end) - max(open_at, start)
        return total.total_seconds()

    def _spans(self, since: datetime, last_day: date | None = None) -> Iterator[Span]:
        """Open spans ending after ``since``, in order, up to local date ``last_day``; without
        it, until SCAN_DAYS pass without one."""
        day = self._local_day(since) - ONE_DAY
        quiet = 0
        while day <= last_day if last_day else quiet <= SCAN_DAYS:
            quiet += 1
            for span in self._day_spans(day):
                if span[1] > since:
                    quiet = 0
                    yield span
            if day == date.max:
                return
            day += ONE_DAY

    def _day_spans(self, day: date) -> tuple[Span, ...]:
        found = self._days.get(day)
        if found is None:
            if len(self._days) >= DAYS_KEPT:
                self._days.clear()
            found = self._days[day] = tuple(self._compute_day_spans(day))
        return found

    def _compute_day_spans(self, day: date) -> Iterator[Span]:
        if day in self.holidays:
            return
        for start, end in self.week[day.weekday()]:
            open_at, close_at = self._instant(day, start), self._instant(day, end)
            if close_at > open_at:  # an interval inside a skipped hour is empty
                yield open_at, close_at

    def _instant(self, day: date, minute: int) -> datetime:
        """The UTC instant at ``minute`` after local midnight of ``day`` (DST: module doc)."""
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        first = wall.replace(tzinfo=self.tz).astimezone(UTC)  # fold=0: first occurrence
        if first.astimezone(self.tz).replace(tzinfo=None) == wall:
            return first
        # wall is in a skipped hour: fold=1 reads it with the offset after the jump, which lands
        # before the jump; fold=0 (above) lands after it.
        return self._jump(wall.replace(tzinfo=self.tz, fold=1).astimezone(UTC), first)

    def _jump(self, before: datetime, after: datetime) -> datetime:
        """The instant the UTC offset changes between ``before`` and ``after`` (bisection on
        whole seconds; transitions fall on whole seconds)."""
        low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
        offset = before.astimezone(self.tz).utcoffset()
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.tz).utcoffset() == offset:
                low = middle
            else:
                high = middle
        return datetime.fromtimestamp(high, UTC)

    def _local_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def _open_for_good(self, day: date) -> bool:
        """Open around the clock every day from ``day`` on (no holiday left)."""
        return (all(hours == ((0, DAY_MINUTES),) for hours in self.week)
                and not any(holiday >= day for holiday in self.holidays))


_ALWAYS = Calendar(UTC, (((0, DAY_MINUTES),),) * 7)  # one instance: its spans are kept
