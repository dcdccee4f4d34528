"""What routing tells the world once its transaction committed: the decision metrics
(``tickets.routing_metrics``) and, for every ticket handed to an agent, one outbound webhook
event, whatever made the decision (a new message, a refill after freed capacity, the sweep,
an accepted offer, an agent coming online):

    {"kind": "assigned", "agent": "alice", "trigger": "capacity"}
    {"kind": "offered", "agent": "alice", "trigger": "route", "expires_at": "2026-...Z"}

The webhook job sends the ticket's snapshot with it (``workers.outbound.webhook``). Call
:func:`publish` after the commit, never inside the transaction: a receiver must never hear of
an assignment that was rolled back. A Redis failure is logged; the change itself stands.
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import select

from config import outbound as outbound_config
from tickets import routing_metrics
from routing.model import Decision
from store.models import Ticket
from queues.outbound import notify_webhook
from tickets.route_store import moment
from queues.runtime import Runtime

log = logging.getLogger(__name__)
KINDS = {"assign": "assigned", "offer": "offered"}  # decision kind -> webhook change kind


def publish(rt: Runtime, config, decisions) -> list[Decision]:
    """Count the (committed) decisions and push one webhook event per hand-off; returns the
    decisions (None entries dropped)."""
    decisions = [d for d in decisions if d is not None]
    routing_metrics.count_decisions(rt.redis, decisions)
    handed = [d for d in decisions if d.kind in KINDS]
    if handed and outbound_config.of(config).webhook.url:
        _notify(rt, config, handed)
    return decisions


def change_of(decision: Decision) -> dict:
    """The webhook ``change`` of one hand-off."""
    change = {"kind": KINDS[decision.kind], "agent": decision.agent,
              "trigger": decision.explanation.get("trigger", "")}
    if decision.kind == "offer":
        change["expires_at"] = moment(decision.explanation["offer_expires"]).isoformat()
    return change


def _notify(rt: Runtime, config, handed: list[Decision]) -> None:
    with rt.read_sessions() as session:
        rows = session.execute(select(Ticket.id, Ticket.number).where(
            Ticket.id.in_({int(d.ticket) for d in handed})))
        numbers = {ticket_id: number for ticket_id, number in rows}
    try:
        with rt.redis.pipeline(transaction=False) as pipe:
            for decision in handed:
                if int(decision.ticket) in numbers:  # else deleted meanwhile: nothing to say
                    notify_webhook(rt.redis, config, numbers[int(decision.ticket)],
                                   change_of(decision), pipeline=pipe)
            pipe.execute()
    except RedisError as exc:
        log.warning("routing webhook events not enqueued: %s", exc)
