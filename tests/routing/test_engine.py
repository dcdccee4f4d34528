"""Eligibility, ranking and the explanation of routing decisions."""
from __future__ import annotations

import json

import pytest

from tests.routing.helpers import agent, codes, request, router


@pytest.mark.parametrize("blocker, code", [
    (dict(status="offline"), "offline"),
    (dict(status="away"), "away"),
    (dict(available=False), "outside_hours"),
    (dict(skills={"en": 1}), "missing_skill"),
    (dict(skills={"en": 1, "billing": 1}), "level_low"),
    (dict(capacity={"chat": 2}), "no_channel"),
    (dict(total=0.5), "total_full"),
])
def test_each_eligibility_rule_blocks_and_is_explained(blocker, code):
    spec = {"skills": {"en": 3, "billing": 3}, **blocker}
    available = spec.pop("available", True)
    blocked = agent("a1", **spec)
    blocked.available = available
    engine = router(blocked)
    decision = engine.route(request("t1", required={"en": 2, "billing": 2}), 0)
    assert decision.kind == "wait"
    assert decision.explanation["eligible"] == 0
    assert code in codes(decision, "a1")


def test_level_low_reason_names_levels_and_missing_skill_names_skill():
    engine = router(agent("a1", {"en": 2}))
    decision = engine.route(request("t1", required={"en": 3, "billing": 1}), 0)
    reasons = decision.explanation["near_misses"][0]["reasons"]
    assert {"code": "level_low", "skill": "en", "level": 2, "required": 3} in reasons
    assert {"code": "missing_skill", "skill": "billing"} in reasons


def test_channel_and_total_capacity_are_both_enforced():
    engine = router(agent("a1", capacity={"email": 1, "chat": 2}, total=4), offer_channels=())
    assert engine.route(request("t1"), 0).agent == "a1"
    second = engine.route(request("t2"), 1)
    assert second.kind == "wait" and "channel_full" in codes(second, "a1")
    assert engine.route(request("t3", "chat"), 2).agent == "a1"  # 1 + 3 = 4 units
    fourth = engine.route(request("t4", "chat"), 3)
    assert fourth.kind == "wait" and codes(fourth, "a1") == ["total_full"]


def test_excluded_agent_is_skipped_and_explained():
    engine = router(agent("a1"), agent("a2"))
    decision = engine.route(request("t1", excluded={"a1"}), 0)
    assert decision.agent == "a2"
    assert codes(decision, "a1") == ["excluded"]


def test_preferred_skills_and_surplus_rank_first():
    engine = router(agent("a1", {"en": 3}), agent("a2", {"en": 3, "vat": 2}),
                    agent("a3", {"en": 5}))
    decision = engine.route(request("t1", required={"en": 3}, preferred={"vat": 1.0}), 0)
    assert decision.agent == "a2"  # 1.0 x 2/5 = 0.4 beats surplus 2 x 0.1 = 0.2
    assert decision.explanation["chosen"]["match"] == pytest.approx(0.4)
    assert engine.route(request("t2", required={"en": 3}), 1).agent == "a3"  # surplus 0.2


def test_load_ratio_then_longest_idle_then_id():
    engine = router(agent("a1"), agent("a2"), agent("a3"), offer_channels=())
    assert engine.route(request("t1"), 0).agent == "a1"  # all equal: id
    assert engine.route(request("t2"), 1).agent == "a2"  # a1 is loaded now
    engine.release("a1", "t1", 2)
    engine.release("a2", "t2", 3)
    assert engine.route(request("t3"), 4).agent == "a3"  # never assigned: longest idle
    assert engine.route(request("t4"), 5).agent == "a1"  # idle since 0 beats a2 (since 1)


def test_load_bands_let_idle_time_decide_between_lightly_loaded_agents():
    engine = router(agent("a1"), agent("a2"), offer_channels=(), load_bands=2)
    engine.route(request("t1"), 0)  # a1: 1/10 units
    assert engine.route(request("t2"), 1).agent == "a2"
    engine.release("a2", "t2", 2)
    # a1 (load 0.1, idle since 0) and a2 (load 0, idle since 1) share band 0: a1 idles longer
    assert engine.route(request("t3"), 3).agent == "a1"


def test_previous_agent_wins_when_eligible_only():
    engine = router(agent("a1", {"en": 5}), agent("a2", {"en": 1}), offer_channels=())
    decision = engine.route(request("t1", previous_agent="a2"), 0)
    assert decision.agent == "a2" and decision.explanation["chosen"]["previous_agent"] is True
    blocked = engine.route(request("t2", required={"en": 3}, previous_agent="a2"), 1)
    assert blocked.agent == "a1" and blocked.explanation["chosen"]["previous_agent"] is False


def test_explanation_is_complete_and_json_serializable():
    engine = router(agent("a1", {"en": 4}), agent("a2", {"en": 2}),
                    agent("a3", {"en": 4}, status="away"))
    decision = engine.route(request("t1", required={"en": 3}), 7)
    data = json.loads(json.dumps(decision.as_dict()))
    explanation = data["explanation"]
    assert explanation["trigger"] == "arrival"
    assert explanation["step"] == 0 and explanation["requirement"] == {"en": 3}
    assert explanation["eligible"] == 1
    assert set(explanation["chosen"]) == {"agent", "previous_agent", "match", "load_ratio",
                                          "idle_s"}
    assert [m["agent"] for m in explanation["near_misses"]] == ["a2", "a3"]


def test_near_misses_are_bounded_and_deterministic():
    agents = [agent(f"a{n:02d}", {"en": 1}) for n in range(20)]
    engine = router(*agents, near_misses=3)
    decision = engine.route(request("t1", required={"en": 2}), 0)
    assert [m["agent"] for m in decision.explanation["near_misses"]] == ["a00", "a01", "a02"]


def test_department_is_a_pseudo_skill():
    engine = router(agent("a1"), agent("a2", departments=frozenset({"vip"})))
    assert engine.route(request("t1", required={"dept:vip": 1}), 0).agent == "a2"


def test_claim_refusal_moves_to_the_next_candidate():
    refused = {("a1", "t1")}
    engine = router(agent("a1"), agent("a2"), claim=lambda a, t: (a, t) not in refused)
    decision = engine.route(request("t1"), 0)
    assert decision.agent == "a2"
    assert decision.explanation["claims_refused"] == ["a1"]
    assert engine.index.agents["a1"].load.get("email", 0) == 0


def test_claim_refused_everywhere_means_waiting():
    engine = router(agent("a1"), claim=lambda a, t: False)
    assert engine.route(request("t1"), 0).kind == "wait"
    assert engine.state_of("t1") == ("waiting", None)


def test_routing_a_ticket_twice_is_refused():
    engine = router(agent("a1"))
    engine.route(request("t1"), 0)
    with pytest.raises(ValueError):
        engine.route(request("t1"), 1)


def test_invalid_skill_level_is_refused():
    with pytest.raises(ValueError):
        router(agent("a1", {"en": 6}))
