"""Changes an agent makes to a ticket by hand (``PATCH /api/v1/tickets/<n>``): status,
priority, assignee, tags; each one in the audit trail with its actor, and routing and the SLA
clock told.

``patch_ticket`` locks the ticket first (lock order ticket -> agent, as everywhere in routing)
and works inside the caller's transaction; it returns what changed (for the outbound webhook)
and the routing reactions to run after the commit (``tickets.reactions``):

- status to resolved/closed/spam/deleted: the ticket's assignment ends; its agent is refilled.
- status from one of those back to new/open/answered/postponed: the ticket is routed again
  (routing on) without its old assignee, unless the same patch names one.
- assignee ``key``: a manual assignment. The current assignment (or open offer) ends and
  ``key`` claims the ticket atomically against its capacity (presence is not checked: a
  manager may hand work to an agent who is away); a full agent refuses (``agent_full``). A
  finished ticket only records the name: it holds no capacity.
- assignee ``None``: the assignment ends and the ticket goes back to routing (routing on).
- priority: recorded; the SLA due times follow the new priority (``tickets.sla_clock.
  reprioritize``); a waiting ticket keeps its place in the priority-ordered queue.

:class:`ChangeRefused` leaves the session half changed: the caller rolls back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.workspaces import WorkspaceConfig
from routing.model import Policy
from store import repo
from store.models import FINISHED, Agent, Assignment, Ticket, utcnow
from tickets import assign, reactions, sla_clock
from tickets import route_store as rs
from tickets.reactions import Reaction

MAX_AUDIT = 200  # characters of an audit trail value (AuditEntry.old/new)


class ChangeRefused(Exception):
    """The change cannot be made: ``code`` says why, ``field`` names the offending field."""

    def __init__(self, code: str, message: str, field: str):
        super().__init__(message)
        self.code, self.field = code, field


@dataclass
class Patched:
    """What a patch did: ``changes`` {field: {old, new}} and the reactions to run after commit."""
    changes: dict[str, dict] = field(default_factory=dict)
    reactions: list[Reaction] = field(default_factory=list)

    def record(self, name: str, old, new) -> None:
        first = self.changes.get(name, {"old": old})["old"]
        if first == new:
            self.changes.pop(name, None)
        else:
            self.changes[name] = {"old": first, "new": new}


def patch_ticket(session: Session, config: WorkspaceConfig, ticket: Ticket, changes: dict,
                 actor: str, now: datetime | None = None) -> Patched:
    """Apply ``changes`` (validated: any of status, assignee, priority, tags) to the ticket."""
    now = now or utcnow()
    ticket = rs.lock_ticket(session, ticket.id)
    done = Patched()
    if "status" in changes:
        change_status(session, config, ticket, changes["status"], actor, now, done)
    if "assignee" in changes:
        change_assignee(session, config, ticket, changes["assignee"], actor, now, done)
    if "priority" in changes:
        change_priority(session, config, ticket, changes["priority"], actor, now, done)
    if "tags" in changes:
        change_tags(session, ticket, list(changes["tags"]), actor, done)
    if done.changes:
        ticket.updated_at = now
    return done


def change_status(session: Session, config: WorkspaceConfig, ticket: Ticket, status: str,
                  actor: str, now: datetime, done: Patched) -> None:
    old = ticket.status
    if status == old:
        return
    repo.set_status(session, ticket, status, actor)
    done.record("status", old, status)
    if status == "closed":
        ticket.closed_at = now
    # The SLA clock pauses, resumes, stops and recomputes its due times (tickets.sla_clock).
    sla_clock.on_status_change(ticket, old, status, config.routing, now)
    if status in FINISHED:
        freed = assign.release(session, config, ticket, status, now=now)
        if freed:
            done.reactions.append(reactions.refill(config, ticket.workspace_id, freed))
    elif old in FINISHED:
        reopen(session, config, ticket, actor, now, done)


def reopen(session: Session, config: WorkspaceConfig, ticket: Ticket, actor: str,
           now: datetime, done: Patched) -> None:
    """A finished ticket is active again: back to routing from the first rung of its ladder."""
    if not config.routing.enabled:
        ticket.routing_state = ""
        return
    set_assignee(session, ticket, None, actor, done)
    ticket.routing_state, ticket.routing_next_at = "new", None
    ticket.routing_step, ticket.routing_step_at, ticket.queued_at = 0, now, None
    done.reactions.append(reactions.route(config, ticket.id))


def change_assignee(session: Session, config: WorkspaceConfig, ticket: Ticket,
                    key: str | None, actor: str, now: datetime, done: Patched) -> None:
    if key is None:
        unassign(session, config, ticket, actor, now, done)
        return
    agent = session.scalar(select(Agent).where(Agent.workspace_id == ticket.workspace_id,
                                               Agent.key == key))
    if agent is None:
        raise ChangeRefused("agent_not_found", f"no agent {key!r} in this workspace", "assignee")
    held = open_assignment(session, ticket)
    if ticket.status in FINISHED or (held is not None and held.agent_id == agent.id
                                     and held.accepted_at is not None):
        set_assignee(session, ticket, key, actor, done)
        return
    hand_over(session, config, ticket, agent, held, actor, now, done)


def hand_over(session: Session, config: WorkspaceConfig, ticket: Ticket, agent: Agent,
              held: Assignment | None, actor: str, now: datetime, done: Patched) -> None:
    """End the (locked) ticket's assignment and claim it for ``agent`` against its capacity.

    Both agents are locked in key order first, so two hand-overs in opposite directions
    queue instead of deadlocking."""
    key = agent.key
    previous = session.get(Agent, held.agent_id).key if held is not None else key
    for name in sorted({previous, key}):
        rs.lock_agent(session, ticket.workspace_id, name)
    freed = assign.release(session, config, ticket, "reassigned", now=now)
    policy = config.routing.make_policy()
    if not rs.StoreClaim(session, ticket.workspace_id, policy, now, check_presence=False,
                         offers=False).take(key, ticket):
        raise ChangeRefused("agent_full", f"agent {key!r} has no room for another "
                            f"{ticket.channel} ticket ({room(agent, ticket.channel, policy)})",
                            "assignee")
    set_assignee(session, ticket, key, actor, done)
    ticket.routing_reason = {**rs.kept_reason(ticket), "decision": "manual", "by": actor,
                             "agent": key, "at": now.isoformat()}
    ticket.routing_state, ticket.routing_next_at = "assigned", None
    if freed and freed != key:
        done.reactions.append(reactions.refill(config, ticket.workspace_id, freed))


def unassign(session: Session, config: WorkspaceConfig, ticket: Ticket, actor: str,
             now: datetime, done: Patched) -> None:
    """Nobody holds the ticket any more; an active one goes back to routing."""
    if ticket.assignee is None and open_assignment(session, ticket) is None:
        return
    set_assignee(session, ticket, None, actor, done)
    active = ticket.status not in FINISHED
    requeue = active and config.routing.enabled
    freed = assign.release(session, config, ticket, "unassigned", requeue=requeue, now=now)
    if requeue:
        done.reactions.append(reactions.route(config, ticket.id))
    elif active:  # routing is off: the ticket simply has nobody
        ticket.routing_state = ""
    if freed:
        done.reactions.append(reactions.refill(config, ticket.workspace_id, freed))


def change_priority(session: Session, config: WorkspaceConfig, ticket: Ticket, priority: str,
                    actor: str, now: datetime, done: Patched) -> None:
    if priority == ticket.priority:
        return
    repo.audit(session, ticket, "priority", ticket.priority, priority, actor)
    done.record("priority", ticket.priority, priority)
    sla_clock.reprioritize(ticket, priority, config.routing, now)  # due times follow it


def change_tags(session: Session, ticket: Ticket, tags: list[str], actor: str,
                done: Patched) -> None:
    old = list(ticket.tags or [])
    if tags == old:
        return
    repo.audit(session, ticket, "tags", audit_value(old), audit_value(tags), actor)
    done.record("tags", old, tags)
    ticket.tags = tags


def set_assignee(session: Session, ticket: Ticket, key: str | None, actor: str,
                 done: Patched) -> None:
    if ticket.assignee == key:
        return
    repo.audit(session, ticket, "assignee", ticket.assignee or "", key or "", actor)
    done.record("assignee", ticket.assignee, key)
    ticket.assignee = key


def open_assignment(session: Session, ticket: Ticket) -> Assignment | None:
    return session.scalar(select(Assignment).where(Assignment.ticket_id == ticket.id,
                                                   Assignment.ended_at.is_(None)))


def room(agent: Agent, channel: str, policy: Policy) -> str:
    """The locked agent's use of ``channel`` and of its weighted total, for a refusal."""
    load, cap = (agent.load or {}).get(channel, 0), (agent.capacity or {}).get(channel, 0)
    return f"{channel} {load}/{cap}, {agent.used:g}/{rs.total_units(agent, policy):g} units"


def audit_value(tags: list[str]) -> str:
    return ", ".join(tags)[:MAX_AUDIT]
