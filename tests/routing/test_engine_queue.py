"""The pending queue (order, aging bound), freed capacity and the relaxation ladder."""
from __future__ import annotations

import pytest

from routing.ladder import effective_requirement, sla_factor
from routing.model import Step
from tests.routing.helpers import agent, request, router


def full_router(**policy):
    """One email agent with room for a single ticket, already busy."""
    engine = router(agent("a1", {"en": 3}, capacity={"email": 1}), offer_channels=(), **policy)
    engine.route(request("busy"), 0)
    return engine


def test_waiting_tickets_go_by_priority_then_sla_then_age():
    engine = full_router()
    engine.route(request("low", priority="low"), 1)
    engine.route(request("med-late-sla", sla_due=900), 2)
    engine.route(request("med-early-sla", sla_due=500), 3)
    engine.route(request("med-no-sla"), 4)
    engine.route(request("urgent", priority="urgent"), 5)
    assert engine.waiting(5) == ["urgent", "med-early-sla", "med-late-sla", "med-no-sla", "low"]
    order = []
    for n, _ in enumerate(range(5)):
        held = next(iter(engine.held_by("a1")))
        decisions = engine.release("a1", held, 6 + n)
        order.append(decisions[0].ticket)
    assert order == ["urgent", "med-early-sla", "med-late-sla", "med-no-sla", "low"]


def test_equal_priority_and_sla_goes_oldest_first():
    engine = full_router()
    for n in range(3):
        engine.route(request(f"t{n}"), 10 + n)
    assert engine.waiting(20) == ["t0", "t1", "t2"]


def test_age_raises_priority_one_level_per_step_up_to_the_bound():
    engine = full_router(aging_step_s=100, aging_bound=1)
    engine.route(request("old-low", priority="low"), 0)
    engine.route(request("new-medium", sla_due=10_000), 150)
    # low + 1 level = medium: same level, SLA due time decides (none is latest)
    assert engine.waiting(150) == ["new-medium", "old-low"]
    engine.route(request("low-early-sla", priority="low", sla_due=500), 150)
    # new-medium aged one level (2); the two low tickets are at 1: SLA first, then age
    assert engine.waiting(250) == ["new-medium", "low-early-sla", "old-low"]
    engine.route(request("new-high", priority="high"), 10_000)
    # bounded: the low tickets never pass level 1; medium capped at 2 ties a fresh high and
    # wins on its SLA due time
    assert engine.waiting(10_000) == ["new-medium", "new-high", "low-early-sla", "old-low"]


def test_capped_tickets_are_ordered_by_sla_due_time():
    engine = full_router(aging_step_s=10, aging_bound=1)
    engine.route(request("early", sla_due=5_000), 0)
    engine.route(request("late", sla_due=4_000), 5)
    # both capped at 1 + 1 by t=100: SLA decides despite age
    assert engine.waiting(100) == ["late", "early"]
    assert engine.release("a1", "busy", 100)[0].ticket == "late"


def test_freed_capacity_takes_only_tickets_the_agent_qualifies_for():
    engine = router(agent("a1", {"en": 3}, capacity={"email": 1}),
                    agent("a2", {"en": 5}, capacity={"email": 1}), offer_channels=())
    engine.route(request("x"), 0)
    engine.route(request("y"), 0)
    engine.route(request("expert", required={"en": 5}, priority="urgent"), 1)
    engine.route(request("plain"), 2)
    decisions = engine.release("a1", "x", 3)
    assert [(d.ticket, d.agent) for d in decisions] == [("plain", "a1")]
    assert decisions[0].explanation["trigger"] == "capacity"
    assert decisions[0].explanation["waited_s"] == 1
    assert engine.release("a2", "y", 4)[0].ticket == "expert"


def test_agent_coming_online_and_capacity_raised_drain_the_queue():
    engine = router(agent("a1", status="offline"), offer_channels=())
    for n in range(4):
        assert engine.route(request(f"t{n}"), n).kind == "wait"
    online = engine.set_status("a1", "online", 10)
    assert [d.ticket for d in online] == ["t0", "t1", "t2"]  # email capacity 3
    raised = engine.set_capacity("a1", 11, capacity={"email": 4})
    assert [d.ticket for d in raised] == ["t3"]
    assert raised[0].explanation["trigger"] == "capacity_raised"


def test_skills_change_and_availability_drain_the_queue():
    engine = router(agent("a1"), offer_channels=())
    engine.route(request("t1", required={"fr": 2}), 0)
    assert [d.ticket for d in engine.set_skills("a1", {"fr": 2}, 1)] == ["t1"]
    engine.set_available("a1", False, 2)
    assert engine.route(request("t2"), 3).kind == "wait"
    assert [d.ticket for d in engine.set_available("a1", True, 4)] == ["t2"]


def test_ladder_relaxes_step_by_step_on_tick():
    ladder = (Step("drop_preferred", 60), Step("lower_levels", 120),
              Step("widen", 300, department="general", keep=("en",)))
    engine = router(agent("a1", {"en": 2, "tax": 1}, departments=frozenset({"general"})),
                    offer_channels=())
    engine.route(request("busy", required={"en": 3}), 0)  # nobody: waits too (no ladder)
    first = engine.route(request("t1", required={"en": 3, "tax": 2}, preferred={"vat": 1},
                                 ladder=ladder), 0)
    assert first.explanation["requirement"] == {"en": 3, "tax": 2, "vat": 1}
    assert first.explanation["queue"]["next_step_at"] == 60
    assert engine.tick(59) == []
    rung1 = engine.tick(60)
    assert rung1[0].kind == "wait" and rung1[0].explanation["step_action"] == "drop_preferred"
    assert rung1[0].explanation["requirement"] == {"en": 3, "tax": 2}
    rung2 = engine.tick(180)
    assert rung2[0].explanation["requirement"] == {"en": 2, "tax": 1}
    assert rung2[0].kind == "assign" and rung2[0].explanation["trigger"] == "ladder"


def test_widen_keeps_listed_skills_and_requires_the_department():
    ladder = (Step("widen", 10, keep=("lang:cs",)),)
    req = request("t", required={"lang:cs": 3, "tax": 4}, ladder=ladder, department="general")
    req.step = 1
    assert effective_requirement(req) == {"lang:cs": 3, "dept:general": 1}


def test_park_leaves_the_queue_and_unpark_returns():
    engine = router(agent("a1", {"en": 1}), offer_channels=())
    engine.route(request("t1", required={"en": 3}, ladder=(Step("park", 30),
                                                           Step("lower_levels", 10))), 0)
    parked = engine.tick(30)
    assert [d.kind for d in parked] == ["park"]
    assert engine.state_of("t1") == ("parked", None) and "t1" not in engine.pending
    assert engine.tick(10_000) == []  # nothing after park
    assert engine.unpark("t1", 10_001).kind == "wait"


def test_escalate_raises_priority_and_keeps_waiting():
    engine = full_router()
    engine.route(request("t1", priority="low", ladder=(Step("escalate", 50),)), 0)
    engine.route(request("t2", priority="medium"), 1)
    escalated = engine.tick(50)
    assert escalated[0].kind == "escalate"
    assert escalated[0].explanation["priority_from"] == "low"
    assert escalated[0].explanation["priority"] == "medium"
    assert engine.waiting(50) == ["t1", "t2"]


def test_rungs_shrink_as_the_sla_due_time_approaches():
    req = request("t", created=0, sla_due=1000)
    assert sla_factor(req, 0) == 1 and sla_factor(req, 750) == pytest.approx(0.25)
    assert sla_factor(req, 2000) == 0
    engine = full_router()
    decision = engine.route(request("t1", created=600, sla_due=1000,
                                    ladder=(Step("lower_levels", 400),)), 800)
    # entered at 800: half of the SLA window left -> 400 s x 0.5
    assert decision.explanation["queue"]["next_step_at"] == pytest.approx(1000)


def test_a_late_ticket_climbs_the_whole_ladder_at_once():
    engine = full_router()
    engine.route(request("t1", created=0, sla_due=10,
                         ladder=(Step("lower_levels", 60), Step("escalate", 60))), 20)
    assert [d.kind for d in engine.tick(20)] == ["wait", "escalate"]


def test_withdraw_forgets_waiting_and_assigned_tickets():
    engine = full_router()
    engine.route(request("t1"), 1)
    assert engine.withdraw("t1", 2) == []
    assert "t1" not in engine.pending and engine.state_of("t1") is None
    engine.route(request("t2"), 3)
    refill = engine.withdraw("busy", 4)
    assert [d.ticket for d in refill] == ["t2"]
