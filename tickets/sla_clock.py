"""The SLA clock of a ticket (PRODUCT.md section 6: priority and SLA).

The ticket row records the clock (first response, last customer message, last agent reply,
time spent postponed, resolution); ``refresh`` turns it into due times with the ticket's SLA
policy (its rule's, else the workspace's ``default``) on the policy's business-hours calendar,
and stores them in the API shape (``ticket.sla``). Breaches stay recorded once they happened.
``sla_check_at`` tells the sweep when to look next: the earliest future due time, and at most
``NEAR_CHECK_S`` away so near-breaches are flagged in time. The first reply and each
resolution are also counted for the service-time histograms (``tickets.service_times``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from config.routing import Routing
from routing.calendar import as_utc
from routing.sla import Clock, as_json, due_times, status
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


def refresh(ticket, routing: Routing, now: datetime) -> list[str]:
    """Recompute due times and breaches; returns the targets breached for the first time."""
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
    sla["breaches"] = list(dict.fromkeys([*before, *sla["breaches"]]))
    sla["breached"] = bool(sla["breaches"])
    ticket.sla = sla
    ticket.sla_breached = sla["breached"]  # indexed copy for tickets.reports
    upcoming = [d for d in (due.first_response_due, due.next_response_due, due.resolution_due)
                if d is not None and d > now]
    if upcoming:
        ticket.sla_check_at = min([*upcoming, now + timedelta(seconds=NEAR_CHECK_S)])
    else:
        ticket.sla_check_at = None
    return [name for name in sla["breaches"] if name not in before]


def elapsed(ticket, routing: Routing, now: datetime) -> tuple[float, float]:
    """Seconds since the ticket's creation: wall-clock, and business time on its SLA policy's
    calendar (always open without one), as ``tickets.reports`` reads them."""
    spec = routing.sla_policy(ticket.sla_policy)
    calendar = routing.calendar((spec.calendar if spec else None) or "")
    start, end = as_utc(ticket.created_at), as_utc(now)
    if end <= start:
        return 0.0, 0.0
    return (end - start).total_seconds(), calendar.business_seconds(start, end)


def customer_wrote(ticket, routing: Routing, now: datetime) -> list[str]:
    ticket.last_customer_at = now
    return refresh(ticket, routing, now)


def agent_replied(ticket, routing: Routing, now: datetime, author: str = "") -> list[str]:
    """An agent's reply (``author``: the agent's key, "" unnamed) was stored at ``now``."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.first_response_s, ticket.first_response_bs = elapsed(ticket, routing, now)
        ticket.first_response_by = author  # for tickets.agent_reports
        service_times.responded(ticket, now)
    ticket.last_agent_at = now
    return refresh(ticket, routing, now)


def on_status_change(ticket, old: str, new: str, routing: Routing, now: datetime) -> list[str]:
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
    return refresh(ticket, routing, now)
