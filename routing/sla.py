"""SLA policies: per-priority targets, the due times they give a ticket, breaches.

    sla: {default: {calendar: office, near_breach: 0.8,
                    urgent: {first_response: 15m, resolution: 4h},
                    medium: {first_response: 4h, next_response: 8h, resolution: 3d}}}

Targets are business time on the policy's calendar (the caller resolves the name; no calendar
means always open), written as whole seconds or as "30m", "4h", "2d", "1h30m" (units d, h, m,
s). A day is 24 hours of business time: with 09:00-17:00 hours "2d" is six working days.

Due times (:func:`due_times`) from the ticket's :class:`Clock`:

- first response: created_at + target + paused_s, until the first agent reply;
- next response: last_customer_at + target, once first answered, while the customer's last
  message is newer than the last agent reply;
- resolution: created_at + target + paused_s, until resolved.

A resolved ticket has nothing due (the caller clears ``resolved_at`` on reopening), nor has a
postponed one: the clock stops, and :func:`resume` adds the business time of the pause to
``paused_s``, which moves the first-response and resolution dues later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

from routing.calendar import Calendar, as_utc
from routing.model import PRIORITIES
from routing.schema import Strict

TARGET_NAMES = ("first_response", "next_response", "resolution")
UNIT_SECONDS = (86400, 3600, 60, 1)  # d, h, m, s
MAX_DURATION_S = 366 * 86400  # longest duration accepted, in seconds
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", re.ASCII)


def parse_duration(value: object) -> int:
    """Whole seconds from an int or a string like ``"1h30m"``; ValueError otherwise."""
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.replace(" ", "").lower())
        if not match or not any(match.groups()):
            raise ValueError(f"{value!r} is not a duration like '30m', '4h', '2d' or '1h30m'")
        value = sum(int(n) * unit for n, unit in zip(match.groups(), UNIT_SECONDS) if n)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"a duration is whole seconds or a string like '1h30m', not {value!r}")
    if not 0 < value <= MAX_DURATION_S:
        raise ValueError(f"a duration must be from 1 s to {MAX_DURATION_S // 86400}d, "
                         f"got {value} s")
    return value


Duration = Annotated[int, BeforeValidator(parse_duration)]


@dataclass(frozen=True, slots=True)
class Targets:
    """Business seconds allowed for each target of one priority (None: no target)."""

    first_response: float | None = None
    next_response: float | None = None
    resolution: float | None = None


class TargetsIn(Strict):
    first_response: Duration | None = None
    next_response: Duration | None = None
    resolution: Duration | None = None

    def targets(self) -> Targets:
        return Targets(self.first_response, self.next_response, self.resolution)


class SlaIn(Strict):
    """One SLA policy: targets per priority, the calendar they run on, the near-breach share."""

    urgent: TargetsIn | None = None
    high: TargetsIn | None = None
    medium: TargetsIn | None = None
    low: TargetsIn | None = None
    calendar: str | None = None
    near_breach: float = Field(0.8, gt=0, lt=1)

    def targets(self, priority: str) -> Targets:
        """The targets of ``priority`` (none when the policy leaves it out)."""
        if priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r}; expected one of {PRIORITIES}")
        spec = getattr(self, priority)
        return spec.targets() if spec else Targets()


@dataclass(frozen=True, slots=True)
class Clock:
    """What a ticket records for its SLA. ``paused_s`` is business seconds spent postponed
    before the current pause; ``paused_since`` is when the current pause began."""

    created_at: datetime
    first_response_at: datetime | None = None
    last_customer_at: datetime | None = None
    last_agent_at: datetime | None = None
    paused_s: float = 0.0
    paused_since: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Due:
    """Due times in UTC; None when nothing is due."""

    first_response_due: datetime | None = None
    next_response_due: datetime | None = None
    resolution_due: datetime | None = None


@dataclass(frozen=True, slots=True)
class SlaStatus:
    breached: tuple[str, ...] = ()  # target names whose due time has passed
    near: tuple[str, ...] = ()  # target names with less than (1 - near_breach) of it left


def due_times(targets: Targets, calendar: Calendar, clock: Clock) -> Due:
    if clock.paused_since is not None or clock.resolved_at is not None:
        return Due()
    first = None
    if clock.first_response_at is None:
        first = _after(calendar, clock.created_at, targets.first_response, clock.paused_s)
    return Due(first, _next_response_due(targets, calendar, clock),
               _after(calendar, clock.created_at, targets.resolution, clock.paused_s))


def _next_response_due(targets: Targets, calendar: Calendar, clock: Clock) -> datetime | None:
    replied = clock.last_agent_at or clock.first_response_at
    if replied is None or clock.last_customer_at is None:
        return None
    if as_utc(clock.last_customer_at) <= as_utc(replied):
        return None
    return _after(calendar, clock.last_customer_at, targets.next_response)


def _after(calendar: Calendar, start: datetime, target: float | None,
           paused_s: float = 0.0) -> datetime | None:
    return None if target is None else calendar.add_business(start, target + paused_s)


def pause(clock: Clock, at: datetime) -> Clock:
    """The clock stopped at ``at`` (postponed); an already stopped clock stays as it is."""
    return clock if clock.paused_since is not None else replace(clock, paused_since=at)


def resume(clock: Clock, at: datetime, calendar: Calendar) -> Clock:
    """The clock running again at ``at``, the pause's business time added to ``paused_s``."""
    if clock.paused_since is None:
        return clock
    since = as_utc(clock.paused_since)
    paused = calendar.business_seconds(since, max(as_utc(at), since))
    return replace(clock, paused_s=clock.paused_s + paused, paused_since=None)


def status(due: Due, now: datetime, targets: Targets, near_breach: float,
           calendar: Calendar) -> SlaStatus:
    """Targets past their due time, and targets with at most ``1 - near_breach`` of their
    business time left (measured on ``calendar``, the one the dues were computed on)."""
    now = as_utc(now)
    breached, near = [], []
    for name in TARGET_NAMES:
        at, target = getattr(due, f"{name}_due"), getattr(targets, name)
        if at is None or target is None:
            continue
        if as_utc(at) < now:
            breached.append(name)
        elif calendar.business_seconds(now, at) <= (1 - near_breach) * target:
            near.append(name)
    return SlaStatus(tuple(breached), tuple(near))


def as_json(due: Due, sla_status: SlaStatus) -> dict:
    """The ticket's ``sla`` object as the API shows it (times ISO 8601 in UTC with ``Z``)."""
    out: dict = {f"{name}_due": _iso(getattr(due, f"{name}_due")) for name in TARGET_NAMES}
    out.update(breached=bool(sla_status.breached), breaches=list(sla_status.breached),
               near=list(sla_status.near))
    return out


def _iso(at: datetime | None) -> str | None:
    return None if at is None else as_utc(at).isoformat().replace("+00:00", "Z")
