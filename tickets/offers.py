"""Offer-and-accept (docs/routing.md): on the channels in ``policy.offer_channels`` (chat
and Telegram, when a workspace turns it on) the router *offers* a ticket to the best agent,
who accepts or declines within ``policy.offer_timeout_s``.

An offer is an open assignment without ``accepted_at``: it holds the agent's capacity, so two
offers never push an agent over, and the ticket's ``routing_state`` is ``offered`` with
``routing_next_at`` at the deadline (the sweep's timer). Its ``assignee`` stays empty until
the agent accepts. Declined or expired (a *lapse*), the offer ends, the agent is excluded
for this ticket, the ticket is routed again and the agent's freed room goes to the waiting
tickets. With ``policy.timeout_sets_away`` an expired offer also sets the agent away, which
withdraws its other offers (``tickets.reactions.absence``).

Every function locks the ticket first (lock order ticket -> agent) and works in the caller's
transaction; :class:`OfferRefused` says why nothing was done.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.workspaces import WorkspaceConfig
from routing.calendar import as_utc  # SQLite gives datetimes back naive (in UTC)
from routing.model import Decision
from store import repo
from store.models import Agent, Assignment, Ticket, utcnow
from tickets import assign, reactions
from tickets import route_store as rs
from tickets.reactions import Reaction


class OfferRefused(Exception):
    """``code``: ``not_offered`` (no open offer of this ticket to this agent) or
    ``offer_expired`` (the deadline passed; the sweep re-routes it)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def pending_offer(session: Session, ticket: Ticket) -> tuple[Assignment, Agent] | None:
    """The ticket's open offer and its agent, if it has one."""
    row = session.execute(select(Assignment, Agent).join(Agent, Agent.id == Assignment.agent_id)
                          .where(Assignment.ticket_id == ticket.id,
                                 Assignment.ended_at.is_(None),
                                 Assignment.accepted_at.is_(None))).first()
    return None if row is None else (row[0], row[1])


def _offer_to(session: Session, ticket: Ticket, agent_key: str,
              now: datetime) -> tuple[Ticket, Assignment]:
    """The locked ticket and its live offer to ``agent_key``; :class:`OfferRefused` else."""
    ticket = rs.lock_ticket(session, ticket.id)
    found = pending_offer(session, ticket) if ticket.routing_state == "offered" else None
    if found is None or found[1].key != agent_key:
        raise OfferRefused("not_offered", f"ticket {ticket.number} is not offered to agent "
                                          f"{agent_key!r}")
    if as_utc(found[0].offer_expires_at) <= now:
        raise OfferRefused("offer_expired", f"the offer of ticket {ticket.number} to "
                                            f"{agent_key!r} expired")
    return ticket, found[0]


def accept(session: Session, ticket: Ticket, agent_key: str,
           now: datetime | None = None) -> Decision:
    """The agent takes the offered ticket: it becomes the assignee."""
    now = now or utcnow()
    ticket, offer = _offer_to(session, ticket, agent_key, now)
    offer.accepted_at = now
    repo.audit(session, ticket, "assignee", ticket.assignee or "", agent_key, agent_key)
    waited = round((now - as_utc(offer.started_at)).total_seconds(), 3)
    ticket.routing_reason = {**rs.kept_reason(ticket), "decision": "assign", "trigger": "accept",
                             "agent": agent_key, "at": now.isoformat(), "offer_s": waited}
    ticket.assignee, ticket.routing_state, ticket.routing_next_at = agent_key, "assigned", None
    ticket.updated_at = now
    return Decision(str(ticket.id), "assign", agent_key, now.timestamp(), {"trigger": "accept"})


def decline(session: Session, config: WorkspaceConfig, ticket: Ticket, agent_key: str,
            now: datetime | None = None) -> list[Reaction]:
    """The agent refuses the offer: lapse it. Returns the reactions to run after commit."""
    now = now or utcnow()
    ticket, _ = _offer_to(session, ticket, agent_key, now)
    return lapse(session, config, ticket, agent_key, "declined", now)


def expire(session: Session, config: WorkspaceConfig, ticket_id: int,
           now: datetime | None = None) -> list[Reaction]:
    """The sweep's timer: lapse the ticket's offer if its deadline passed (checked locked)."""
    now = now or utcnow()
    ticket = rs.lock_ticket(session, ticket_id)
    found = pending_offer(session, ticket) if ticket and ticket.routing_state == "offered" \
        else None
    if found is None or as_utc(found[0].offer_expires_at) > now:
        return []
    agent = found[1]
    done = lapse(session, config, ticket, agent.key, "offer_timeout", now)
    if config.routing.policy.timeout_sets_away and agent.status == "online":
        agent = rs.lock_agent(session, ticket.workspace_id, agent.key)
        agent.status, agent.updated_at = "away", now
        done.append(reactions.absence(config, ticket.workspace_id, agent.key))
    return done


def lapse(session: Session, config: WorkspaceConfig, ticket: Ticket, agent_key: str,
          reason: str, now: datetime) -> list[Reaction]:
    """End the (locked) ticket's offer, exclude its agent for the ticket, route it again."""
    ticket.excluded = list(dict.fromkeys([*(ticket.excluded or []), agent_key]))
    repo.audit(session, ticket, "offer", agent_key, reason, "router")
    freed = assign.release(session, config, ticket, reason, requeue=True, now=now)
    ticket.updated_at = now
    done = [reactions.route(config, ticket.id)]
    if freed:
        done.append(reactions.refill(config, ticket.workspace_id, freed))
    return done
