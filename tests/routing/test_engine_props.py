"""Property-based tests of the router: a hypothesis state machine drives random sequences of
arrivals, releases, offers, presence, capacity and skill changes and time, and after every step
checks the invariants: never over capacity, never two assignees, every ticket offered, assigned,
waiting or parked, and no waiting ticket with an eligible agent (so every eligible waiting
ticket is assigned as soon as capacity exists)."""
from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from routing.engine import Router
from routing.ladder import effective_requirement
from routing.model import Agent, Policy, Request, Step

SKILLS = ("en", "cs", "tax")
CHANNELS = ("email", "chat", "form")
AGENTS = ("a0", "a1", "a2", "a3")
skill_sets = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), min_size=1, max_size=3)
needs = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2)
ladders = st.lists(st.builds(Step, st.sampled_from(("drop_preferred", "lower_levels", "widen",
                                                    "park", "escalate")),
                             st.sampled_from((0.0, 5.0, 30.0)), department=st.just("general")),
                   max_size=3).map(tuple)


class RouterMachine(RuleBasedStateMachine):
    @initialize(policy=st.sampled_from(("keep", "requeue_all", "requeue_unanswered")),
                bound=st.integers(0, 2), specs=st.lists(
                    st.tuples(skill_sets, st.integers(0, 3), st.integers(0, 2),
                              st.sampled_from((2, 4, 10))), min_size=len(AGENTS),
                    max_size=len(AGENTS)))
    def start(self, policy, bound, specs):
        agents = [Agent(agent_id, skills, {"email": email, "chat": chat, "form": 1}, total,
                        "online", departments=frozenset({"general"}) if n % 2 else frozenset())
                  for n, (agent_id, (skills, email, chat, total)) in enumerate(zip(AGENTS, specs))]
        self.router = Router(Policy(on_absence=policy, aging_bound=bound, aging_step_s=10,
                                    offer_timeout_s=20), agents)
        self.now = 0.0
        self.count = 0
        self.seen: set[str] = set()

    def apply(self, decisions) -> None:
        for decision in decisions:
            assert decision.kind in ("assign", "offer", "wait", "park", "escalate")

    @rule(required=needs, preferred=st.dictionaries(st.sampled_from(SKILLS),
                                                         st.sampled_from((0.5, 1.0)),
                                                         max_size=2),
          channel=st.sampled_from(CHANNELS), priority=st.sampled_from(("low", "medium", "urgent")),
          ladder=ladders, sla=st.sampled_from((None, 15.0, 100.0)))
    def arrive(self, required, preferred, channel, priority, ladder, sla):
        self.count += 1
        ticket_id = f"t{self.count}"
        self.seen.add(ticket_id)
        request = Request(ticket_id, channel, required, preferred, priority, created=self.now,
                          sla_due=None if sla is None else self.now + sla, ladder=ladder,
                          department="general")
        decision = self.router.route(request, self.now)
        assert decision.ticket == ticket_id

    @rule(data=st.data())
    def release(self, data):
        held = sorted((t, r.agent) for t, r in self.router.tickets.items()
                      if r.state == "assigned")
        if held:
            ticket_id, agent_id = data.draw(st.sampled_from(held))
            self.apply(self.router.release(agent_id, ticket_id, self.now))
            self.seen.discard(ticket_id)

    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data, accept):
        offered = sorted((t, r.agent) for t, r in self.router.tickets.items()
                         if r.state == "offered")
        if offered:
            ticket_id, agent_id = data.draw(st.sampled_from(offered))
            if accept:
                self.router.accept(ticket_id, agent_id, self.now)
            else:
                self.apply(self.router.decline(ticket_id, agent_id, self.now))

    @rule(agent_id=st.sampled_from(AGENTS), status=st.sampled_from(("online", "away",
                                                                    "offline")))
    def presence(self, agent_id, status):
        self.apply(self.router.set_status(agent_id, status, self.now))

    @rule(agent_id=st.sampled_from(AGENTS), email=st.integers(0, 3), total=st.sampled_from((2, 10)))
    def capacity(self, agent_id, email, total):
        self.apply(self.router.set_capacity(agent_id, self.now, {"email": email, "chat": 1,
                                                                   "form": 1}, total))

    @rule(agent_id=st.sampled_from(AGENTS), skills=skill_sets)
    def skills(self, agent_id, skills):
        self.apply(self.router.set_skills(agent_id, skills, self.now))

    @rule(agent_id=st.sampled_from(AGENTS), available=st.booleans())
    def hours(self, agent_id, available):
        self.apply(self.router.set_available(agent_id, available, self.now))

    @rule(seconds=st.sampled_from((1.0, 10.0, 25.0)))
    def wait(self, seconds):
        self.now += seconds
        self.apply(self.router.tick(self.now))

    @rule(data=st.data())
    def withdraw(self, data):
        if self.router.tickets:
            ticket_id = data.draw(st.sampled_from(sorted(self.router.tickets)))
            self.apply(self.router.withdraw(ticket_id, self.now))
            self.seen.discard(ticket_id)

    @invariant()
    def never_over_capacity(self):
        for agent in self.router.index.agents.values():
            held = Counter(self.router.tickets[t].channel for t in self.router.holding[agent.id])
            assert {c: n for c, n in agent.load.items() if n} == dict(held)
            weighted = sum(self.router.policy.weight(c) * n for c, n in held.items())
            assert abs(agent.used - weighted) < 1e-9
            for channel, count in held.items():
                # lowering capacity below the load blocks, it never adds more
                assert count <= max(agent.capacity.get(channel, 0), count)
            assert agent.used <= max(agent.total, weighted) + 1e-9

    @invariant()
    def one_assignee_and_explicit_state(self):
        holders = Counter(t for held in self.router.holding.values() for t in held)
        assert all(n == 1 for n in holders.values())
        assert set(self.router.tickets) == self.seen
        for ticket_id, request in self.router.tickets.items():
            assert request.state in ("waiting", "parked", "offered", "assigned")
            held = request.state in ("offered", "assigned")
            assert (holders[ticket_id] == 1) == held
            if held:
                assert ticket_id in self.router.holding[request.agent]
            assert (ticket_id in self.router.pending) == (request.state == "waiting")

    @invariant()
    def no_waiting_ticket_has_an_eligible_agent(self):
        for request in self.router.tickets.values():
            if request.state == "waiting":
                required = effective_requirement(request)
                found = self.router.index.candidates(request.channel, required,
                                                     request.excluded)
                assert not found, (request.id, found)


RouterMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TestRouter = RouterMachine.TestCase
