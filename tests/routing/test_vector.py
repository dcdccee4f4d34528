"""The vectorized path of a decision (``routing.vector`` over ``routing.arrays``) gives what the
set-based reference gives: the same eligible agents, the same chosen agent (same tie-breaking)
and the same near misses with the same reasons, on generated agents and tickets; and two
routers, one on each path, driven through the same random sequence of arrivals, releases,
presence, capacity, skill and roster changes, make identical decisions with identical
explanations."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from routing import vector
from routing.engine import Router
from routing.index import AgentIndex
from routing.model import Agent, Policy, Request
from routing.scoring import best_candidate, near_misses

SKILLS = ("en", "cs", "tax", "vat", "law")
CHANNELS = ("email", "chat", "form")
IDS = tuple(f"a{n}" for n in range(12)) + ("b", "a10x", "Z")  # not in slot order when sorted

levels = st.integers(1, 5)
skill_sets = st.dictionaries(st.sampled_from(SKILLS), levels, max_size=4)
agents = st.builds(
    lambda agent_id, skills, email, chat, total, status, available, depts, last, load: Agent(
        agent_id, skills, {"email": email, "chat": chat}, total, status, available,
        frozenset(depts), last, {"email": min(load, email)} if load else {}),
    st.sampled_from(IDS), skill_sets, st.integers(0, 3), st.integers(0, 2),
    st.sampled_from((0, 2, 3, 10)), st.sampled_from(("online", "online", "away", "offline")),
    st.booleans(), st.sets(st.sampled_from(("sales", "support")), max_size=1),
    st.sampled_from((float("-inf"), 5.0, 7.0)), st.integers(0, 2))
requests = st.builds(
    lambda channel, required, preferred, excluded, previous: Request(
        "t", channel, required, preferred, excluded=excluded, previous_agent=previous),
    st.sampled_from(CHANNELS),
    st.dictionaries(st.sampled_from(SKILLS + ("dept:sales", "nobody")),
                    st.integers(0, 4), max_size=3),
    st.dictionaries(st.sampled_from(SKILLS + ("nobody",)), st.sampled_from((0.5, 1.0, 1.5)),
                    max_size=2),
    st.sets(st.sampled_from(IDS), max_size=3), st.one_of(st.none(), st.sampled_from(IDS)))
policies = st.builds(lambda bands, surplus, misses: Policy(
    load_bands=bands, surplus_weight=surplus, near_misses=misses),
    st.sampled_from((0, 1, 2, 3)), st.sampled_from((0.0, 0.1, 0.25)), st.integers(0, 6))


@pytest.fixture(autouse=True)
def vectors_for_every_size(monkeypatch):
    """Small populations take the vector path too (the engine keeps them on the reference)."""
    monkeypatch.setattr(vector, "FEW", 0)
    monkeypatch.setattr(Router, "vector_from", 0)


def index_of(policy: Policy, population: list[Agent]) -> AgentIndex:
    index = AgentIndex(policy)
    for agent in population:
        if agent.id not in index:
            index.add(agent)
    return index


def outcome(call):
    try:
        return call()
    except ValueError as error:
        return ("ValueError", str(error))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies, population=st.lists(agents, max_size=15), request=requests,
       scan=st.sampled_from((1, 3, 2000)))
def test_each_part_answers_as_the_reference(policy, population, request, scan):
    index = index_of(policy, population)
    required, channel = request.required, request.channel
    reference = index.candidates(channel, required, request.excluded)
    found = vector.eligible(index, channel, required, request.excluded)
    assert found.ids() == reference and len(found) == len(reference)
    assert outcome(lambda: vector.best(index, request, required, found, policy.surplus_weight,
                                       policy.load_bands)) == \
        outcome(lambda: best_candidate(index, request, required, reference,
                                       policy.surplus_weight, policy.load_bands))
    other = (policy.load_bands + 1) % 4  # not the index's: the load keys are computed here
    assert outcome(lambda: vector.best(index, request, required, found, policy.surplus_weight,
                                       other)) == \
        outcome(lambda: best_candidate(index, request, required, reference,
                                       policy.surplus_weight, other))
    assert vector.near_misses(index, request, required, found, policy.near_misses, scan) == \
        near_misses(index, request, required, reference, policy.near_misses, scan)


def test_the_tie_breaks_follow_the_reference_in_order():
    """Equal match: lowest load band, then the longest idle, then the smallest id."""
    policy = Policy(load_bands=2)
    index = index_of(policy, [
        Agent("c", {"en": 3}, {"email": 4}, 4, "online", last_assigned=1.0),
        Agent("b", {"en": 3}, {"email": 4}, 4, "online", last_assigned=1.0),
        Agent("a", {"en": 3}, {"email": 4}, 4, "online", last_assigned=2.0),
        Agent("d", {"en": 3}, {"email": 4}, 4, "online", load={"email": 3})])
    request = Request("t", "email", {"en": 1})
    found = vector.eligible(index, "email", {"en": 1}, set())
    assert vector.best(index, request, {"en": 1}, found, 0.1, 2) == "b"
    index.assigned(index.agents["b"], 3.0)  # now b was busy last: c is the longest idle
    assert vector.best(index, request, {"en": 1}, found, 0.1, 2) == "c"


ROUTE = st.tuples(st.just("route"), requests, st.booleans())
OPS = st.one_of(
    ROUTE, ROUTE, ROUTE,
    st.tuples(st.just("release"), st.integers(0, 50)),
    st.tuples(st.just("status"), st.sampled_from(IDS), st.sampled_from(("online", "away"))),
    st.tuples(st.just("capacity"), st.sampled_from(IDS), st.integers(0, 3),
              st.sampled_from((2, 4, 10))),
    st.tuples(st.just("skills"), st.sampled_from(IDS), skill_sets),
    st.tuples(st.just("put"), agents),
    st.tuples(st.just("drop"), st.sampled_from(IDS)),
    st.tuples(st.just("forget"),))


def apply(router: Router, op: tuple, now: float) -> list:
    """One operation; the decisions as JSON text (what a store would keep)."""
    kind, present = op[0], set(router.index.agents)
    decisions = []
    if kind == "route":
        _, request, prefer = op
        request = Request(f"t{now}", request.channel, dict(request.required),
                          dict(request.preferred), excluded=set(request.excluded),
                          previous_agent=request.previous_agent)
        decisions = [router.route(request, now)]
    elif kind == "release":
        held = sorted((t, r.agent) for t, r in router.tickets.items() if r.state == "assigned")
        if held:
            ticket_id, agent_id = held[op[1] % len(held)]
            decisions = router.release(agent_id, ticket_id, now)
    elif kind == "status" and op[1] in present:
        decisions = router.set_status(op[1], op[2], now)
    elif kind == "capacity" and op[1] in present:
        decisions = router.set_capacity(op[1], now, {"email": op[2], "chat": 1}, op[3])
    elif kind == "skills" and op[1] in present:
        decisions = router.set_skills(op[1], op[2], now)
    elif kind == "put" and not any(r.agent == op[1].id for r in router.tickets.values()):
        agent = op[1]
        router.put_agent(Agent(agent.id, dict(agent.skills), dict(agent.capacity), agent.total,
                               agent.status, agent.available, agent.departments,
                               agent.last_assigned, dict(agent.load)))
    elif kind == "drop" and op[1] in present and not router.held_by(op[1]):
        router.drop_agent(op[1])
    elif kind == "forget":
        router.forget_tickets()
    return [json.dumps(d.as_dict(), sort_keys=True) for d in decisions]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies, population=st.lists(agents, min_size=3, max_size=12),
       ops=st.lists(OPS, max_size=40))
def test_two_routers_decide_alike_through_changes(policy, population, ops):
    routers = []
    for vectorized in (False, True):
        router = Router(Policy(load_bands=policy.load_bands, surplus_weight=policy.surplus_weight,
                               near_misses=policy.near_misses))
        router.vectorized = vectorized
        for agent in population:
            if agent.id not in router.index:
                router.put_agent(Agent(agent.id, dict(agent.skills), dict(agent.capacity),
                                       agent.total, agent.status, agent.available,
                                       agent.departments, agent.last_assigned, dict(agent.load)))
        routers.append(router)
    for step, op in enumerate(ops):
        now = 100.0 + step
        assert apply(routers[1], op, now) == apply(routers[0], op, now), op


def test_two_routers_decide_alike_among_equal_agents():
    """Many equal agents: every decision rests on the tie-breaks (load band, longest idle,
    id), which the arrays follow through assignments and releases."""
    routers = []
    for vectorized in (False, True):
        router = Router(Policy(load_bands=2))
        router.vectorized = vectorized
        for n in range(30):
            router.put_agent(Agent(f"a{(n * 7) % 30:02d}", {"en": 3, "tax": 1 + n % 2},
                                   {"email": 3}, 3, "online"))
        routers.append(router)
    for step in range(200):
        now = 100.0 + step
        op = ("release", step * 13) if step % 3 == 2 else (
            "route", Request("t", "email", {"en": 2}, {"tax": 1.0} if step % 4 else {}), False)
        assert apply(routers[1], op, now) == apply(routers[0], op, now), op


def test_the_comparison_can_fail():
    """A vector path whose arrays missed a change (here: the load of an agent given back
    behind the index's back) decides differently from the reference."""
    agents_ = [Agent("a", {"en": 3}, {"email": 2}, 4, "online"),
               Agent("b", {"en": 3}, {"email": 2}, 4, "online")]
    index = index_of(Policy(load_bands=0), agents_)
    index.agents["a"].used = 3.0  # not through take/refresh: the arrays still say 0
    request = Request("t", "email", {"en": 1})
    reference = index.candidates("email", {"en": 1}, set())
    found = vector.eligible(index, "email", {"en": 1}, set())
    assert best_candidate(index, request, {"en": 1}, reference, 0.0, 0) == "b"
    assert vector.best(index, request, {"en": 1}, found, 0.0, 0) == "a"


@pytest.mark.parametrize("count", [70, 200])
def test_the_arrays_grow_and_keep_their_slots(count):
    index = index_of(Policy(), [Agent(f"x{n:03d}", {"en": 1 + n % 5}, {"email": 1}, 1, "online")
                                for n in range(count)])
    slots = dict(index.arrays.slot_of)
    index.remove("x005")
    index.add(Agent("x005", {"en": 5}, {"email": 1}, 1, "online"))
    assert index.arrays.slot_of == slots and index.arrays.size >= count
    found = vector.eligible(index, "email", {"en": 5}, set())
    assert found.ids() == index.candidates("email", {"en": 5}, set())
