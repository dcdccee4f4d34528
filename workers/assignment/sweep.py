"""The routing and SLA sweep: ``python -m workers.assignment.sweep`` (one Procfile line, ``sweep``).

Every ``automation.sweep_interval_s`` (the smallest of the workspaces), for each workspace:
routes tickets left ``new`` (a worker killed after its commit), applies due ladder rungs,
lapses offers nobody accepted in time (``tickets.offers``), gives waiting tickets to agents with
room (an agent's business hours began), flags SLA breaches and
escalates them per ``automation.on_breach`` (notify through the outbound webhook, raise the
priority, re-route away from the agent who missed the first response), auto-resolves answered
tickets the customer left silent and auto-closes resolved ones. It also re-enqueues stalled
outbound replies (``workers.outbound.sweep``) and folds the report log into the report rollup
(``tickets.report_fold``), so the log stays small whether anyone reads a report or not.

Every step works one ticket per transaction and locks the ticket, so two sweeps (or a sweep
and a worker) never do anything twice; a Redis lock still keeps one sweep active at a time.
Routing decisions are published (metrics, webhook events) after their transaction commits.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import select

from config.logs import configure_logging
from config.workspaces import WorkspaceConfig
from queues import metrics
from routing.calendar import as_utc  # SQLite gives datetimes back naive (in UTC)
from routing.model import PRIORITIES, PRIORITY_RANK, Decision
from store import repo
from store.models import Agent, Ticket, Workspace, utcnow
from tickets import (assign, offers, reactions, report_fold, route_store, routing_events,
                     sla_clock)
from queues.outbound import notify_webhook
from workers.outbound import sweep as outbound_sweep
from queues.runtime import Runtime, runtime

log = logging.getLogger(__name__)
LOCK_KEY = "ticketgate:sweep"
STALE_NEW_S = 30      # a ticket still "new" this long after its last change was not routed
BATCH = 500
Outcome = tuple[bool, list]  # (something was done, the routing decisions made)


def sweep(rt: Runtime, now: datetime | None = None) -> dict[str, int]:
    """One pass over every workspace; counts of what was done."""
    now = now or utcnow()
    done: dict[str, int] = {}
    for config in rt.config.workspaces:
        with rt.read_sessions() as session:
            workspace_id = session.scalar(select(Workspace.id).where(
                Workspace.slug == config.slug))
        if workspace_id is not None:
            for name, count in sweep_workspace(rt, config, workspace_id, now).items():
                done[name] = done.get(name, 0) + count
    done["stalled_replies"] = outbound_sweep.requeue_stalled(rt)
    done["report_log_folded"] = report_fold.fold_a_pass(rt.sessions)
    return done


def sweep_workspace(rt: Runtime, config: WorkspaceConfig, workspace_id: int,
                    now: datetime) -> dict[str, int]:
    routing = config.routing
    done = {"routed": 0, "climbed": 0, "refilled": 0}
    if routing.enabled:
        done["routed"] = _each(rt, config, _ids(rt, workspace_id, Ticket.routing_state == "new",
                                                Ticket.updated_at < now - timedelta(
                                                    seconds=STALE_NEW_S)),
                               lambda s, t: _decided([assign.route(s, config, t, now)]))
        done["climbed"] = _each(rt, config, _ids(rt, workspace_id,
                                                 Ticket.routing_state == "waiting",
                                                 Ticket.routing_next_at <= now),
                                lambda s, t: climb(s, config, t, now))
        done["offers_expired"] = expire_offers(rt, config, workspace_id, now)
        done["refilled"] = refill_all(rt, config, workspace_id, now)
    done["breaches"] = _each(rt, config, _ids(rt, workspace_id, Ticket.sla_check_at <= now),
                             lambda s, t: check_sla(rt, s, config, t, now))
    automation = routing.automation
    for name, status, column, new in (("auto_resolve_after", "answered", Ticket.last_agent_at,
                                       "resolved"),
                                      ("auto_close_after", "resolved", Ticket.resolved_at,
                                       "closed")):
        after = automation.seconds(name)
        if after is not None:
            cutoff = now - timedelta(seconds=after)
            done[new] = _each(rt, config, _ids(rt, workspace_id, Ticket.status == status,
                                               column <= cutoff),
                              lambda s, t, new=new: finish(s, config, t, new, cutoff, now))
    return done


def climb(session, config: WorkspaceConfig, ticket_id: int, now: datetime) -> Outcome:
    """Apply the ticket's due ladder rungs; an ``escalate`` rung's raised priority moves the
    SLA due times as every priority change does (``tickets.sla_clock.reprioritize``)."""
    decisions = assign.climb(session, config, ticket_id, now)
    if any(d.kind == "escalate" for d in decisions):
        ticket = session.get(Ticket, ticket_id)  # the row as the climb wrote it
        sla_clock.reprioritize(ticket, ticket.priority, config.routing, now)
    return _decided(decisions)


def _decided(decisions) -> Outcome:
    decisions = [d for d in decisions if d is not None]
    return bool(decisions), decisions


def _ids(rt: Runtime, workspace_id: int, *conditions) -> list[int]:
    with rt.read_sessions() as session:
        return list(session.scalars(select(Ticket.id).where(
            Ticket.workspace_id == workspace_id, *conditions).order_by(Ticket.id).limit(BATCH)))


def _each(rt: Runtime, config: WorkspaceConfig, ticket_ids: list[int], step) -> int:
    """``step(session, ticket_id) -> (done, decisions)`` per ticket, a transaction each; the
    decisions are published after the commit. Returns on how many tickets something was done."""
    count = 0
    for ticket_id in ticket_ids:
        with rt.sessions.begin() as session:
            done, decisions = step(session, ticket_id)
        routing_events.publish(rt, config, decisions)
        count += done
    return count


def expire_offers(rt: Runtime, config: WorkspaceConfig, workspace_id: int,
                  now: datetime) -> int:
    """Lapse the offers whose deadline passed: each ticket is routed again without the agent
    who let it lapse, and that agent's freed room goes to the waiting tickets."""
    count = 0
    for ticket_id in _ids(rt, workspace_id, Ticket.routing_state == "offered",
                          Ticket.routing_next_at <= now):
        with rt.sessions.begin() as session:
            after = offers.expire(session, config, ticket_id, now)
        count += bool(after)
        routing_events.publish(rt, config, reactions.run(rt.sessions, after))
    return count


def refill_all(rt: Runtime, config: WorkspaceConfig, workspace_id: int, now: datetime) -> int:
    """Offer waiting tickets to every online agent in business hours with room."""
    with rt.read_sessions() as session:
        if not session.scalar(select(Ticket.id).where(Ticket.workspace_id == workspace_id,
                                                      Ticket.routing_state == "waiting")
                              .limit(1)):
            return 0
        policy = config.routing.make_policy()
        keys = [a.key for a in session.scalars(select(Agent).where(
            Agent.workspace_id == workspace_id, Agent.status == "online").order_by(Agent.key))
            if config.routing.calendar(a.calendar).is_open(now)
            and any(route_store.has_room(a, c, policy) for c in a.capacity)]
    count = 0
    for key in keys:
        with rt.sessions.begin() as session:
            decisions = assign.refill(session, config, workspace_id, key, now)
        count += len(routing_events.publish(rt, config, decisions))
    return count


def check_sla(rt: Runtime, session, config: WorkspaceConfig, ticket_id: int,
              now: datetime) -> Outcome:
    ticket = route_store.lock_ticket(session, ticket_id)
    if ticket is None or ticket.sla_check_at is None or as_utc(ticket.sla_check_at) > now:
        return False, []
    breached = sla_clock.flag_breaches(ticket, config.routing, now)
    decisions = []
    for target in breached:
        repo.audit(session, ticket, "sla_breach", "", target, "sweep")
        metrics.incr(rt.redis, "sla_breaches", target)
        decisions += escalate(rt, session, config, ticket, target, now)
    return bool(breached), decisions


def escalate(rt: Runtime, session, config: WorkspaceConfig, ticket: Ticket, target: str,
             now: datetime) -> list[Decision]:
    """Apply ``automation.on_breach``; returns the routing decisions made (a re-route)."""
    decisions = []
    actions = config.routing.automation.on_breach
    if "raise_priority" in actions and ticket.priority != "urgent":
        higher = PRIORITIES[PRIORITY_RANK[ticket.priority] + 1]
        repo.audit(session, ticket, "priority", ticket.priority, higher, "sweep")
        # The rule of every priority change (tickets.sla_clock.reprioritize): a target the
        # new priority has already missed is flagged by the next pass, like any breach.
        sla_clock.reprioritize(ticket, higher, config.routing, now)
    if ("reroute" in actions and target == "first_response" and ticket.assignee
            and ticket.routing_state == "assigned"):
        ticket.excluded = list(dict.fromkeys([*(ticket.excluded or []), ticket.assignee]))
        assign.release(session, config, ticket, "first_response_missed", requeue=True, now=now)
        session.flush()
        decisions.append(assign.route(session, config, ticket.id, now, trigger="reroute"))
    if "notify" in actions:
        notify_webhook(rt.redis, config, ticket.number,
                       {"kind": "sla_breach", "target": target, "priority": ticket.priority,
                        "assignee": ticket.assignee})
    return decisions


def finish(session, config: WorkspaceConfig, ticket_id: int, new: str, cutoff: datetime,
           now: datetime) -> Outcome:
    """Auto-resolve or auto-close one ticket if it still qualifies once locked."""
    ticket = route_store.lock_ticket(session, ticket_id)
    if ticket is None:
        return False, []
    since = ticket.last_agent_at if new == "resolved" else ticket.resolved_at
    customer_after = (new == "resolved" and ticket.last_customer_at is not None
                      and since is not None and as_utc(ticket.last_customer_at) > as_utc(since))
    expected = "answered" if new == "resolved" else "resolved"
    if ticket.status != expected or since is None or as_utc(since) > cutoff or customer_after:
        return False, []
    old = ticket.status
    repo.set_status(session, ticket, new, actor="sweep")
    sla_clock.on_status_change(ticket, old, new, config.routing, now)
    agent = assign.release(session, config, ticket, f"auto_{new}", now=now)
    if not agent:
        return True, []
    session.flush()
    return True, assign.refill(session, config, ticket.workspace_id, agent, now)



def interval_s(rt: Runtime) -> float:
    return min((w.routing.automation.sweep_interval_s for w in rt.config.workspaces),
               default=30.0)


def main() -> None:
    configure_logging("sweep")
    rt = runtime()
    while True:
        started = time.monotonic()
        try:
            lock = rt.redis.lock(LOCK_KEY, timeout=600)
            if lock.acquire(blocking=False):
                try:
                    done = sweep(rt)
                finally:
                    lock.release()
                if any(done.values()):
                    log.info("sweep: %s", done)
        except Exception:
            log.exception("sweep failed; trying again next interval")
        time.sleep(max(1.0, interval_s(rt) - (time.monotonic() - started)))


if __name__ == "__main__":
    main()
