"""The SLA clock of a ticket (docs/routing.md, "SLA").

The ticket row records the clock (first response, last customer message, last agent reply,
time spent postponed, resolution); ``refresh`` turns it into due times with the ticket's SLA
policy (its rule's, else the workspace's ``default``) on the policy's business-hours calendar,
and stores them in the API shape (``ticket.sla``). ``sla_check_at`` tells the sweep when to look
next: the earliest due time not yet passed, at most ``NEAR_CHECK_S`` away so near-breaches are
flagged in time, or at once when a due time has passed unflagged.

Breaches are flagged by the sweep alone (``flag_breaches``: it audits, counts and escalates
them), once per target: a target in ``breaches`` stays there and is never flagged again,
whatever a later change does to its due time. Every other change (a customer message, a reply,
a status or priority change) recomputes the due times and leaves a passed one to the sweep's
next pass, so a breach is handled the same way whoever moved the clock.

A priority change (``reprioritize``: a PATCH, a customer message that raises it, a ladder's
``escalate`` rung, the sweep's ``raise_priority``) follows one rule: the due times are those of
the new priority's targets, counted from the clock's start as always (creation for first
response and resolution, the customer's unanswered message for next response), the time
postponed still added back.

The first reply and each resolution are also counted for the service-time histograms
(``tickets.service_times``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from config.routing import Routing
from routing.calendar import as_utc
from routing.sla import Clock, Due, as_json, due_times, status
from store.models import FINISHED
from tickets import service_times

NEAR_CHECK_S = 300


def clock_of(ticket) -> Clock:
    return Clock(created_at=as_utc(ticket.created_at),
                 first_response_at=_utc(ticket.first_response_at),
                 last_customer_at=_utc(ticket.last_customer_at),
                 last_agent_at=_utc(ticket.last_agent_at), paused_s=ticket.paused_s or 0.0,
                 paused_since=_utc(ticket.paused_since), resolved_at=_utc(ticket.resolved_at))


def _utc(moment):
    return None if moment is None else as_utc(moment)


def refresh(ticket, routing: Routing, now: datetime) -> None:
    """Recompute the due times; breaches already flagged stay, new ones wait for the sweep."""
    _recompute(ticket, routing, now, flag=False)


def flag_breaches(ticket, routing: Routing, now: datetime) -> list[str]:
    """The sweep's pass: recompute, and flag the targets whose due time has passed; returns
    those flagged for the first time (a target is flagged once, ever)."""
    return _recompute(ticket, routing, now, flag=True)


def reprioritize(ticket, priority: str, routing: Routing, now: datetime) -> None:
    """The one rule for a priority change, whoever makes it: the due times follow the new
    priority's targets from the clock's start, paused time kept, flagged breaches kept."""
    ticket.priority = priority
    refresh(ticket, routing, now)


def _recompute(ticket, routing: Routing, now: datetime, flag: bool) -> list[str]:
    spec = routing.sla_policy(ticket.sla_policy)
    if spec is None:
        ticket.sla, ticket.sla_check_at, ticket.sla_breached = {}, None, None
        return []
    calendar = routing.calendar(spec.calendar or "")
    targets = spec.targets(ticket.priority)
    due = due_times(targets, calendar, clock_of(ticket))
    state = status(due, now, targets, spec.near_breach, calendar)
    before = list((ticket.sla or {}).get("breaches", []))
    sla = as_json(due, state)
    passed = [name for name in state.breached if name not in before]
    sla["breaches"] = [*before, *passed] if flag else before
    sla["breached"] = bool(sla["breaches"])
    ticket.sla = sla
    ticket.sla_breached = sla["breached"]  # indexed copy for tickets.reports
    ticket.sla_check_at = next_check(due, now, unflagged=bool(passed) and not flag)
    return passed if flag else []


def next_check(due: Due, now: datetime, unflagged: bool) -> datetime | None:
    """When the sweep looks at the ticket next: now when a passed due time waits to be
    flagged, else the earliest due time still ahead (at most ``NEAR_CHECK_S`` away)."""
    if unflagged:
        return now
    upcoming = [d for d in (due.first_response_due, due.next_response_due, due.resolution_due)
                if d is not None and as_utc(d) >= as_utc(now)]
    if not upcoming:
        return None
    return min([*upcoming, now + timedelta(seconds=NEAR_CHECK_S)])


def elapsed(ticket, routing: Routing, now: datetime) -> tuple[float, float]:
    """Seconds since the ticket's creation: wall-clock, and business time on its SLA policy's
    calendar (always open without one), as ``tickets.reports`` reads them."""
    spec = routing.sla_policy(ticket.sla_policy)
    calendar = routing.calendar((spec.calendar if spec else None) or "")
    start, end = as_utc(ticket.created_at), as_utc(now)
    if end <= start:
        return 0.0, 0.0
    return (end - start).total_seconds(), calendar.business_seconds(start, end)


def customer_wrote(ticket, routing: Routing, now: datetime) -> None:
    ticket.last_customer_at = now
    refresh(ticket, routing, now)


def agent_replied(ticket, routing: Routing, now: datetime, author: str = "") -> None:
    """An agent's reply (``author``: the agent's key, "" unnamed) was stored at ``now``."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.first_response_s, ticket.first_response_bs = elapsed(ticket, routing, now)
        ticket.first_response_by = author  # for tickets.agent_reports
        service_times.responded(ticket, now)
    ticket.last_agent_at = now
    refresh(ticket, routing, now)


def on_status_change(ticket, old: str, new: str, routing: Routing, now: datetime) -> None:
    """Postponed pauses the clock, leaving it resumes; resolved stops it, reopening restarts."""
    if new == "postponed" and ticket.paused_since is None:
        ticket.paused_since = now
    elif old == "postponed" and ticket.paused_since is not None:
        spec = routing.sla_policy(ticket.sla_policy)
        calendar = routing.calendar((spec.calendar if spec else None) or "")
        ticket.paused_s = (ticket.paused_s or 0.0) + calendar.business_seconds(
            as_utc(ticket.paused_since), now)
        ticket.paused_since = None
    service_times.resolved(ticket, old, new, now)
    if new in FINISHED and ticket.resolved_at is None:
        ticket.resolved_at = now
        ticket.resolution_s, ticket.resolution_bs = elapsed(ticket, routing, now)
        ticket.resolved_by = ticket.assignee or ""  # who held it (tickets.agent_reports)
    elif new not in FINISHED:
        ticket.resolved_at = ticket.resolved_by = None
    refresh(ticket, routing, now)
