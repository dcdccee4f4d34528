"""The routing engine's public interface: :class:`Router`.

Pure and single-threaded: agents and tickets in, :class:`~routing.model.Decision` objects out;
every call takes ``now`` (seconds). The caller persists decisions and feeds back events:

- tickets: :meth:`Router.route` (new), :meth:`~Router.release` (resolved, closed, transferred
  away), :meth:`~Router.withdraw` (gone while waiting), :meth:`~Router.accept` /
  :meth:`~Router.decline` (offers on chat/telegram), :meth:`~Router.mark_answered`,
  :meth:`~Router.reroute` (e.g. first-response target missed), :meth:`~Router.unpark`;
- agents: :meth:`~Router.add_agent`, :meth:`~Router.remove_agent`, :meth:`~Router.set_status`,
  :meth:`~Router.set_available`, :meth:`~Router.set_capacity`, :meth:`~Router.set_skills`;
- time: :meth:`~Router.tick` applies ladder rungs and offer timeouts due by ``now``.

Concurrency across processes belongs to the store: pass ``claim(agent_id, ticket_id) -> bool``
(an atomic claim); when it refuses, the router tries the next candidate agent (new tickets) or
stops filling that agent (freed capacity).
"""
from __future__ import annotations

from routing.core import Claim, Core
from routing.ladder import effective_requirement, next_rung_at
from routing.model import PRIORITY_RANK, STATUSES, Agent, Decision, Policy, Request
from routing.pending import PendingQueue

__all__ = ["Router", "Claim", "Agent", "Decision", "Policy", "Request"]


class Router(Core):
    """A pure, in-memory skill-based router for one workspace."""

    def __init__(self, policy: Policy | None = None, agents=(), claim: Claim | None = None):
        super().__init__(policy, agents, claim)

    # -- tickets ------------------------------------------------------------------------------
    def release(self, agent_id: str, ticket_id: str, now: float) -> list[Decision]:
        """The ticket is finished with ``agent_id``: free its capacity and refill the agent."""
        request = self.tickets.get(ticket_id)
        if request is None or request.agent != agent_id:
            raise KeyError(f"ticket {ticket_id!r} is not held by agent {agent_id!r}")
        self._free(request)
        request.state = "done"
        del self.tickets[ticket_id]
        return self.on_capacity(agent_id, now)

    def resume(self, request: Request, now: float) -> None:
        """Register a ticket that was waiting already (state rebuilt from a store): its
        ``step``, ``step_entered`` and ``enqueued`` are kept, its next rung is timed. No attempt
        is made: call :meth:`tick` or :meth:`on_capacity` next."""
        if request.id in self.tickets:
            raise ValueError(f"ticket {request.id!r} is already routed")
        self.policy.channel_weights.setdefault(request.channel, 1)
        request.state, request.agent = "waiting", None
        if request.enqueued is None:
            request.enqueued = now
        self.tickets[request.id] = request
        self.pending.push(request, effective_requirement(request))
        at = next_rung_at(request)
        if at is not None:
            self._set_timer(request.id, at, "rung", request.step)

    def retry(self, request: Request, now: float, trigger: str = "retry") -> Decision:
        """Register a waiting ticket (as :meth:`resume`) and make one more attempt to give it
        to an agent; it stays waiting, on its rung, when nobody can take it. For a caller whose
        earlier "wait" may have been decided on a view another process changed since."""
        self.resume(request, now)
        return self._attempt(request, now, trigger)

    def withdraw(self, ticket_id: str, now: float) -> list[Decision]:
        """Forget a ticket in any state (closed, deleted, merged); refill its agent if any."""
        request = self.tickets.pop(ticket_id, None)
        if request is None:
            return []
        self.pending.remove(ticket_id)
        agent_id = self._free(request)
        request.state = "done"
        return self.on_capacity(agent_id, now) if agent_id else []

    def accept(self, ticket_id: str, agent_id: str, now: float) -> Decision:
        request = self._held(ticket_id, agent_id, "offered")
        request.state = "assigned"
        self.timer_of.pop(ticket_id, None)
        return Decision(ticket_id, "assign", agent_id, now, {"trigger": "accept"})

    def decline(self, ticket_id: str, agent_id: str, now: float) -> list[Decision]:
        """The agent declined the offer: exclude them for this ticket and route it again."""
        return self._lapse(self._held(ticket_id, agent_id, "offered"), now, "decline")

    def mark_answered(self, ticket_id: str) -> None:
        self.tickets[ticket_id].answered = True

    def reroute(self, ticket_id: str, now: float, exclude_current: bool = True) -> list[Decision]:
        """Take the ticket from its agent (e.g. first response missed) and route it again."""
        request = self.tickets[ticket_id]
        if request.state not in ("assigned", "offered"):
            return []
        agent_id = self._free(request)
        if exclude_current:
            request.excluded.add(agent_id)
        decisions = [self._attempt(request, now, "reroute")]
        return decisions + self.on_capacity(agent_id, now)

    def unpark(self, ticket_id: str, now: float) -> Decision:
        """Put a parked ticket back into automatic routing (its ladder stays where it ended)."""
        request = self.tickets[ticket_id]
        if request.state != "parked":
            raise ValueError(f"ticket {ticket_id!r} is {request.state}, not parked")
        return self._attempt(request, now, "unpark")

    def _held(self, ticket_id: str, agent_id: str, state: str) -> Request:
        request = self.tickets.get(ticket_id)
        if request is None or request.agent != agent_id or request.state != state:
            raise KeyError(f"ticket {ticket_id!r} is not {state} to agent {agent_id!r}")
        return request

    # -- agents -------------------------------------------------------------------------------
    def add_agent(self, agent: Agent, now: float) -> list[Decision]:
        self.index.add(agent)
        self.holding[agent.id] = set()
        self.pending.agent_changed(agent.id, self.index.skills[agent.id])
        return self.on_capacity(agent.id, now, "agent_added")

    def put_agent(self, agent: Agent) -> None:
        """Add the agent or replace the one with its id (the new object is used as it is: a
        store's fresh row); its held tickets stay with it. No routing happens: for a caller
        that keeps the router between decisions and syncs it with a store."""
        if agent.id in self.index:
            self.index.remove(agent.id)
        self.index.add(agent)
        self.holding.setdefault(agent.id, set())
        self.pending.agent_changed(agent.id, self.index.skills[agent.id])

    def drop_agent(self, agent_id: str) -> None:
        """Forget the agent without routing its tickets again (see :meth:`put_agent`)."""
        self.index.remove(agent_id)
        self.pending.agent_changed(agent_id, None)
        self.holding.pop(agent_id, None)

    def remove_agent(self, agent_id: str, now: float) -> list[Decision]:
        """Drop the agent; every ticket it holds is routed again."""
        agent = self.index.agents[agent_id]
        agent.status = "offline"
        self.index.refresh(agent)
        decisions = self._requeue(agent_id, lambda request: True, now)
        self.index.remove(agent_id)
        self.pending.agent_changed(agent_id, None)
        del self.holding[agent_id]
        return decisions

    def set_status(self, agent_id: str, status: str, now: float) -> list[Decision]:
        """Presence change. Going away/offline withdraws open offers and re-routes assigned
        tickets per ``policy.on_absence`` (keep, requeue_all, requeue_unanswered)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        agent = self.index.agents[agent_id]
        agent.status = status
        self.index.refresh(agent)
        if status == "online":
            return self.on_capacity(agent_id, now, "online")
        policy = self.policy.on_absence

        def leaves(request: Request) -> bool:
            if request.state == "offered" or policy == "requeue_all":
                return True
            return policy == "requeue_unanswered" and not request.answered
        return self._requeue(agent_id, leaves, now)

    def set_available(self, agent_id: str, available: bool, now: float) -> list[Decision]:
        """Business hours / calendar result computed by the caller; held tickets stay."""
        agent = self.index.agents[agent_id]
        agent.available = available
        self.index.refresh(agent)
        return self.on_capacity(agent_id, now, "available") if available else []

    def set_capacity(self, agent_id: str, now: float, capacity: dict | None = None,
                     total: float | None = None) -> list[Decision]:
        """New limits; lowering below the current load takes nothing away, it only blocks."""
        agent = self.index.agents[agent_id]
        if capacity is not None:
            agent.capacity = dict(capacity)
        if total is not None:
            agent.total = total
        self.index.refresh(agent)
        return self.on_capacity(agent_id, now, "capacity_raised")

    def set_skills(self, agent_id: str, skills: dict[str, int], now: float,
                   departments=None) -> list[Decision]:
        agent = self.index.agents[agent_id]
        self.index.set_skills(agent, skills, departments)
        self.pending.agent_changed(agent_id, self.index.skills[agent_id])
        return self.on_capacity(agent_id, now, "skills_changed")

    def _requeue(self, agent_id: str, leaves, now: float) -> list[Decision]:
        held = [self.tickets[t] for t in self.holding[agent_id]]
        held = [r for r in held if leaves(r)]
        held.sort(key=lambda r: (-PRIORITY_RANK[r.priority], r.enqueued or r.created, r.id))
        decisions = []
        for request in held:
            self._free(request)
            decisions.append(self._attempt(request, now, "absence"))
        return decisions

    def forget_tickets(self) -> None:
        """Forget every ticket, keeping the agents as they are: for a caller whose store holds
        the tickets and which re-reads the agents a decision changed (capacity taken here is
        not given back)."""
        for request in self.tickets.values():
            if request.agent is not None:
                self.holding.get(request.agent, set()).discard(request.id)
        self.tickets.clear()
        self.pending = PendingQueue(self.policy, self.index.qualified)
        self.timers.clear()
        self.timer_of.clear()

    # -- introspection ------------------------------------------------------------------------
    def state_of(self, ticket_id: str) -> tuple[str, str | None] | None:
        request = self.tickets.get(ticket_id)
        return None if request is None else (request.state, request.agent)

    def waiting(self, now: float, limit: int | None = None) -> list[str]:
        """Waiting ticket ids, best first."""
        return self.pending.ordered(now, limit)

    def held_by(self, agent_id: str) -> set[str]:
        return set(self.holding[agent_id])
