"""Routing's reactions to a committed change (an agent edited, a ticket patched), run after the
change's own transaction, each step in a transaction of its own.

A reaction is a plain callable ``reaction(sessions) -> [Decision]``, built by :func:`refill`,
:func:`route` or :func:`absence` while the change is made and run by :func:`run` once it
committed (which returns the routing decisions, for ``tickets.routing_metrics``), so routing
never sees half a change and never holds the change's locks longer than needed. A reaction lost
to a crash or a database outage is not lost work: tickets left ``new`` are routed by the sweep,
and waiting tickets are offered again at the next freed capacity.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable

from sqlalchemy import or_, select, true
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.workspaces import WorkspaceConfig
from routing.model import Decision
from store.models import Agent, Assignment, Ticket
from tickets import assign
from tickets import route_store as rs

log = logging.getLogger(__name__)
Reaction = Callable[[sessionmaker], list[Decision]]


def refill(config: WorkspaceConfig, workspace_id: int, agent_key: str) -> Reaction:
    """The agent got room (or skills, or came online): hand it the best waiting tickets."""
    return functools.partial(_refill, config, workspace_id, agent_key)


def route(config: WorkspaceConfig, ticket_id: int) -> Reaction:
    """Route the ``new`` ticket (reopened, unassigned by hand)."""
    return functools.partial(_route, config, ticket_id)


def absence(config: WorkspaceConfig, workspace_id: int, agent_key: str) -> Reaction:
    """The agent went away or offline: apply the workspace's ``policy.on_absence``."""
    return functools.partial(_absence, config, workspace_id, agent_key)


def run(sessions: sessionmaker, reactions: Iterable[Reaction]) -> list[Decision]:
    """Run each reaction; a database failure is logged, not raised (the change committed).
    Returns the decisions made."""
    decisions: list[Decision] = []
    for reaction in reactions:
        try:
            decisions += reaction(sessions)
        except SQLAlchemyError as exc:
            log.warning("routing reaction %s failed (%s); the sweep catches up",
                        getattr(reaction, "func", reaction).__name__, exc)
    return decisions


def _refill(config: WorkspaceConfig, workspace_id: int, agent_key: str,
            sessions: sessionmaker) -> list[Decision]:
    with sessions.begin() as session:
        return assign.refill(session, config, workspace_id, agent_key)


def _route(config: WorkspaceConfig, ticket_id: int, sessions: sessionmaker) -> list[Decision]:
    return assign.route_all(sessions, config, [ticket_id])


def _absence(config: WorkspaceConfig, workspace_id: int, agent_key: str,
             sessions: sessionmaker) -> list[Decision]:
    policy = config.routing.policy.on_absence
    with sessions.begin() as session:
        ticket_ids = held_tickets(session, workspace_id, agent_key, policy)
    decisions = []
    for ticket_id in ticket_ids:
        with sessions.begin() as session:
            decision = requeue(session, config, ticket_id, agent_key, policy)
        if decision is not None:
            decisions.append(decision)
    return decisions


def leaving(policy: str):
    """The SQL condition on an open assignment (joined with its ticket) that an absent agent
    gives up under ``policy``: open offers always, accepted tickets as the policy says."""
    offer = Assignment.accepted_at.is_(None)
    if policy == "requeue_all":
        return true()
    if policy == "requeue_unanswered":
        return or_(offer, Ticket.first_response_at.is_(None))
    return offer  # keep


def held_tickets(session: Session, workspace_id: int, agent_key: str, policy: str) -> list[int]:
    """Ids of the tickets the agent holds and gives up under ``policy``."""
    return list(session.scalars(
        select(Assignment.ticket_id).join(Agent, Agent.id == Assignment.agent_id)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(Agent.workspace_id == workspace_id, Agent.key == agent_key,
               Assignment.ended_at.is_(None), leaving(policy))
        .order_by(Assignment.ticket_id)))


def requeue(session: Session, config: WorkspaceConfig, ticket_id: int, agent_key: str,
            policy: str) -> Decision | None:
    """Take the ticket (locked first) from the absent agent and route it again; None when
    things changed meanwhile (answered, reassigned, the agent is back online)."""
    ticket = rs.lock_ticket(session, ticket_id)
    holder = session.scalar(
        select(Agent).join(Assignment, Assignment.agent_id == Agent.id)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(Assignment.ticket_id == ticket_id, Assignment.ended_at.is_(None),
               leaving(policy)))
    if ticket is None or holder is None or holder.key != agent_key or holder.status == "online":
        return None
    assign.release(session, config, ticket, f"agent_{holder.status}", requeue=True)
    return assign.route(session, config, ticket.id)
