"""Discrete-event simulation of a day through the real router.

One heap of events (ticket arrivals, presence changes, agents finishing work, offers being
answered, queue samples); before each event the router's own timers (ladder rungs, offer
timeouts) that are due are applied with :meth:`Router.tick`. Agents accept offers after
``simulation.accept_s`` (or decline with ``decline_rate``), work on a ticket for its handle time
and release it. Every decision is recorded in :class:`simulation.report.Recorder`.
"""
from __future__ import annotations

import heapq
import itertools
import random

from routing.engine import Router
from routing.model import Decision, Request
from simulation.config_input import RoutingInput
from simulation.day import Day, TicketArrival
from simulation.report import Recorder

SAMPLE_S = 300.0


class Simulation:
    """Runs one config over one day; :meth:`run` returns the recorder with every measurement."""

    def __init__(self, config: RoutingInput, day: Day, seed: int = 1, decline_rate: float = 0.0):
        self.config = config
        self.day = day
        self.rng = random.Random(seed)
        self.decline_rate = decline_rate
        self.router = Router(config.make_policy(), config.make_agents())
        self.rules = {rule.name: rule for rule in config.rules}
        self.recorder = Recorder(config, day.length_s)
        self.arrivals: dict[str, TicketArrival] = {}
        self.events: list[tuple] = []
        self.seq = itertools.count()
        self.accept_s = config.simulation.accept_s

    def push(self, at: float, kind: str, *payload) -> None:
        heapq.heappush(self.events, (at, next(self.seq), kind, payload))

    def run(self) -> Recorder:
        for agent in self.router.index.agents.values():
            self.recorder.presence(agent.id, agent.status, 0.0, agent.total)
        for arrival in self.day.tickets:
            self.push(arrival.t, "ticket", arrival)
        for change in self.day.presence:
            self.push(change.t, "presence", change.agent, change.status)
        t = 0.0
        while t <= self.day.length_s:
            self.push(t, "sample")
            t += SAMPLE_S
        while self.events:
            at = self.events[0][0]
            due = self.router.next_timer()
            if due is not None and due <= at:
                self.handle(self.router.tick(due))
                continue
            _, _, kind, payload = heapq.heappop(self.events)
            getattr(self, f"on_{kind}")(at, *payload)
        end = self.day.length_s
        while (due := self.router.next_timer()) is not None and due <= end:
            self.handle(self.router.tick(due))
        self.recorder.finish(end, self.router)
        return self.recorder

    # -- events -------------------------------------------------------------------------------
    def on_ticket(self, at: float, arrival: TicketArrival) -> None:
        request = self.request(arrival, at)
        self.arrivals[arrival.id] = arrival
        self.recorder.arrival(request, at)
        self.handle([self.router.route(request, at)])

    def on_presence(self, at: float, agent_id: str, status: str) -> None:
        if agent_id not in self.router.index:
            return
        agent = self.router.index.agents[agent_id]
        self.recorder.presence(agent_id, status, at, agent.total)
        self.handle(self.router.set_status(agent_id, status, at))

    def on_answer(self, at: float, ticket_id: str, agent_id: str) -> None:
        if self.router.state_of(ticket_id) != ("offered", agent_id):
            return  # withdrawn or timed out meanwhile
        if self.rng.random() < self.decline_rate:
            self.handle(self.router.decline(ticket_id, agent_id, at))
            return
        self.handle([self.router.accept(ticket_id, agent_id, at)])

    def on_done(self, at: float, ticket_id: str, agent_id: str, token: int) -> None:
        if self.recorder.holder(ticket_id) != (agent_id, token):
            return  # the ticket was re-routed since
        self.recorder.released(ticket_id, at)
        self.handle(self.router.release(agent_id, ticket_id, at))

    def on_sample(self, at: float) -> None:
        self.recorder.sample(at, len(self.router.pending))

    # -- decisions ----------------------------------------------------------------------------
    def handle(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            token = self.recorder.decision(decision, self.router)
            if decision.kind == "offer":
                self.push(decision.at + self.accept_s, "answer", decision.ticket, decision.agent)
            elif decision.kind == "assign":
                self.router.mark_answered(decision.ticket)
                handle_s = self.arrivals[decision.ticket].handle_s
                self.push(decision.at + handle_s, "done", decision.ticket, decision.agent, token)

    def request(self, arrival: TicketArrival, at: float) -> Request:
        rule = self.rules.get(arrival.rule) if arrival.rule else None
        if rule is not None:
            request = self.config.request(rule, arrival.id, arrival.channel, at,
                                          arrival.previous_agent)
            return request
        target = arrival.sla_s if arrival.sla_s is not None else self.config.sla.get(
            arrival.priority)
        return Request(arrival.id, arrival.channel, dict(arrival.required),
                       dict(arrival.preferred), arrival.priority, created=at,
                       sla_due=None if target is None else at + target,
                       previous_agent=arrival.previous_agent)


def simulate(config: RoutingInput, day: Day, seed: int = 1, decline_rate: float = 0.0) -> dict:
    """Run and summarize (see :func:`simulation.report.Recorder.summary`)."""
    return Simulation(config, day, seed, decline_rate).run().summary()
