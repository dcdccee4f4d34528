"""The heart of the router: try to assign a request, else queue it; hand freed capacity to the
best waiting ticket; advance ladders and offers on a timer heap.

Invariants (checked by the property tests): an agent's load never exceeds its channel capacity
or its weighted total; a ticket has at most one assignee or offeree; every known ticket is
offered, assigned, waiting or parked; no waiting ticket has an eligible agent (every change that
can make an agent eligible calls :meth:`Core.on_capacity`, every change to a ticket re-routes it).
"""
from __future__ import annotations

import heapq
import itertools
from typing import Callable

from routing import vector
from routing.index import AgentIndex
from routing.ladder import (describe, effective_requirement, escalated_priority, next_rung_at)
from routing.model import Decision, Policy, Request
from routing.pending import PendingQueue
from routing.scoring import best_candidate, components, near_misses

MAX_REFUSED = 3  # refused claims in a row that end filling an agent with freed capacity

Claim = Callable[[str, str], bool]


def _always(_agent_id: str, _ticket_id: str) -> bool:
    return True


class Core:
    """State and the assignment paths shared by every public operation of the router.

    ``vectorized``: with at least ``vector_from`` agents, a new ticket's eligible agents,
    ranking and near misses are computed over the index's arrays (``routing.vector``); else
    with the set-based reference (``AgentIndex.candidates``, ``routing.scoring``), which gives
    the same decisions and is cheaper for a few agents."""

    vectorized = True
    vector_from = 2000

    def __init__(self, policy: Policy | None = None, agents=(), claim: Claim | None = None):
        self.policy = policy or Policy()
        self.policy.validate()
        self.index = AgentIndex(self.policy)
        self.pending = PendingQueue(self.policy, self.index.qualified)
        self.tickets: dict[str, Request] = {}
        self.holding: dict[str, set[str]] = {}
        self.claim: Claim = claim or _always
        self.timers: list[tuple] = []
        self.timer_of: dict[str, int] = {}
        self.counter = itertools.count()
        for agent in agents:
            self.index.add(agent)
            self.holding[agent.id] = set()

    # -- assignment ---------------------------------------------------------------------------
    def route(self, request: Request, now: float, trigger: str = "arrival") -> Decision:
        """Route a new ticket: assign or offer it to the best eligible agent, else queue it;
        ``trigger`` says why in the explanation (``reroute`` when taken from a late agent)."""
        if request.id in self.tickets:
            raise ValueError(f"ticket {request.id!r} is already routed")
        if request.channel not in self.policy.channel_weights:
            self.policy.channel_weights.setdefault(request.channel, 1)
        request.state, request.agent, request.enqueued = "new", None, None
        request.step, request.step_entered = 0, now
        self.tickets[request.id] = request
        return self._attempt(request, now, trigger)

    def _attempt(self, request: Request, now: float, trigger: str) -> Decision:
        required = effective_requirement(request)
        if self.vectorized and len(self.index) >= self.vector_from:
            candidates = vector.eligible(self.index, request.channel, required, request.excluded)
            explain, pick = vector.near_misses, vector.best
        else:
            candidates = self.index.candidates(request.channel, required, request.excluded)
            explain, pick = near_misses, best_candidate
        explanation = {"trigger": trigger, **describe(request), "requirement": required,
                       "eligible": len(candidates)}
        explanation["near_misses"] = explain(self.index, request, required, candidates,
                                             self.policy.near_misses)
        surplus = self.policy.surplus_weight
        while candidates:
            agent_id = pick(self.index, request, required, candidates, surplus,
                            self.policy.load_bands)
            if self.claim(agent_id, request.id):
                explanation["chosen"] = components(self.index, request, required, agent_id,
                                                   surplus, now)
                return self._give(request, agent_id, now, explanation)
            candidates.discard(agent_id)
            explanation.setdefault("claims_refused", []).append(agent_id)
        return self._wait(request, required, now, explanation)

    def _give(self, request: Request, agent_id: str, now: float, explanation: dict) -> Decision:
        agent = self.index.agents[agent_id]
        self.index.take(agent, request.channel)
        self.index.assigned(agent, now)
        self.pending.remove(request.id)
        self.holding[agent_id].add(request.id)
        request.agent = agent_id
        if request.channel in self.policy.offer_channels:
            request.state = "offered"
            deadline = now + self.policy.offer_timeout_s
            explanation["offer_expires"] = deadline
            self._set_timer(request.id, deadline, "offer", agent_id)
            return Decision(request.id, "offer", agent_id, now, explanation)
        request.state = "assigned"
        self.timer_of.pop(request.id, None)
        return Decision(request.id, "assign", agent_id, now, explanation)

    def _wait(self, request: Request, required: dict, now: float, explanation: dict) -> Decision:
        if request.enqueued is None:
            request.enqueued = now
        request.state, request.agent = "waiting", None
        self.pending.push(request, required)
        explanation["queue"] = {"waiting": len(self.pending), "priority": request.priority,
                                "enqueued": request.enqueued}
        at = next_rung_at(request)
        if at is None:
            self.timer_of.pop(request.id, None)
        else:
            self._set_timer(request.id, at, "rung", request.step)
            explanation["queue"]["next_step_at"] = at
        return Decision(request.id, "wait", None, now, explanation)

    def _free(self, request: Request) -> str | None:
        """Give back the capacity held by the ticket's agent; the agent id (or ``None``)."""
        agent_id = request.agent
        if agent_id is not None and request.state in ("assigned", "offered"):
            self.index.give_back(self.index.agents[agent_id], request.channel)
            self.holding[agent_id].discard(request.id)
        request.agent = None
        self.timer_of.pop(request.id, None)
        return agent_id

    def on_capacity(self, agent_id: str, now: float, trigger: str = "capacity") -> list[Decision]:
        """Give the agent the best waiting tickets it can take, while it has room. A refused
        claim skips that ticket (another worker holds it); ``MAX_REFUSED`` refusals in a row
        end the pass (the agent itself is probably full in the store)."""
        agent = self.index.agents[agent_id]
        decisions: list[Decision] = []
        refused: list[Request] = []
        in_a_row = 0
        while agent.status == "online" and agent.available and in_a_row < MAX_REFUSED:
            channels = [c for c in sorted(agent.capacity) if self.index.has_room(agent, c)]
            if not channels or not self.pending:
                break
            ticket_id = self.pending.best_for(agent_id, channels, now)
            if ticket_id is None:
                break
            request = self.tickets[ticket_id]
            if not self.claim(agent_id, ticket_id):
                refused.append(request)
                self.pending.remove(ticket_id)
                in_a_row += 1
                continue
            in_a_row = 0
            required = effective_requirement(request)
            explanation = {"trigger": trigger, **describe(request), "requirement": required,
                           "eligible": 1, "near_misses": [],
                           "waited_s": round(now - request.enqueued, 3),
                           "chosen": components(self.index, request, required, agent_id,
                                                self.policy.surplus_weight, now)}
            decisions.append(self._give(request, agent_id, now, explanation))
        for request in refused:  # still waiting, for other agents
            self.pending.push(request, effective_requirement(request))
        return decisions

    # -- timers -------------------------------------------------------------------------------
    def _set_timer(self, ticket_id: str, at: float, kind: str, token) -> None:
        seq = next(self.counter)
        self.timer_of[ticket_id] = seq
        heapq.heappush(self.timers, (at, seq, kind, ticket_id, token))

    def next_timer(self) -> float | None:
        """When :meth:`tick` next has work (stale timers included), or ``None``."""
        while self.timers and self.timer_of.get(self.timers[0][3]) != self.timers[0][1]:
            heapq.heappop(self.timers)
        return self.timers[0][0] if self.timers else None

    def tick(self, now: float) -> list[Decision]:
        """Apply every ladder rung and offer timeout due by ``now``."""
        decisions: list[Decision] = []
        while self.timers and self.timers[0][0] <= now:
            at, seq, kind, ticket_id, token = heapq.heappop(self.timers)
            if self.timer_of.get(ticket_id) != seq:
                continue
            del self.timer_of[ticket_id]
            request = self.tickets[ticket_id]
            if kind == "rung":
                decisions += self._climb(request, at)
            else:
                decisions += self._lapse(request, at, "offer_timeout")
        return decisions

    def _climb(self, request: Request, at: float) -> list[Decision]:
        step = request.ladder[request.step]
        request.step += 1
        request.step_entered = at
        required = effective_requirement(request)
        explanation = {"trigger": "ladder", **describe(request), "requirement": required}
        if step.action == "park":
            self.pending.remove(request.id)
            request.state = "parked"
            return [Decision(request.id, "park", None, at, explanation)]
        if step.action == "escalate":
            explanation["priority_from"] = request.priority
            request.priority = escalated_priority(step, request.priority)
            explanation["priority"] = request.priority
            self.pending.push(request, required)
            return [Decision(request.id, "escalate", None, at, explanation)]
        self.pending.remove(request.id)
        return [self._attempt(request, at, "ladder")]

    def _lapse(self, request: Request, now: float, trigger: str) -> list[Decision]:
        """An offer was declined or timed out: exclude the agent, re-route, refill the agent."""
        agent_id = self._free(request)
        request.excluded.add(agent_id)
        decisions = [self._attempt(request, now, trigger)]
        agent = self.index.agents[agent_id]
        if trigger == "offer_timeout" and self.policy.timeout_sets_away:
            return decisions + self.set_status(agent_id, "away", now)
        if agent.status == "online":
            decisions += self.on_capacity(agent_id, now)
        return decisions

    def set_status(self, agent_id: str, status: str, now: float) -> list[Decision]:
        raise NotImplementedError  # provided by routing.engine.Router
