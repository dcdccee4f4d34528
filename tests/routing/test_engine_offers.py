"""Offer and accept, declines and timeouts, re-routing on absence and on a missed target."""
from __future__ import annotations

import pytest

from tests.routing.helpers import agent, request, router


def test_chat_is_offered_and_email_assigned_directly():
    engine = router(agent("a1"))
    offer = engine.route(request("c1", "chat"), 0)
    assert offer.kind == "offer" and offer.explanation["offer_expires"] == 30
    assert engine.state_of("c1") == ("offered", "a1")
    assert engine.index.agents["a1"].load["chat"] == 1  # an offer holds capacity
    assert engine.route(request("e1", "email"), 0).kind == "assign"
    accepted = engine.accept("c1", "a1", 5)
    assert accepted.kind == "assign" and engine.state_of("c1") == ("assigned", "a1")
    assert engine.tick(100) == []  # the accepted offer's timeout is void


def test_decline_excludes_the_agent_and_offers_the_next():
    engine = router(agent("a1"), agent("a2"))
    engine.route(request("c1", "chat"), 0)
    decisions = engine.decline("c1", "a1", 3)
    assert decisions[0].kind == "offer" and decisions[0].agent == "a2"
    assert decisions[0].explanation["trigger"] == "decline"
    assert "a1" in engine.tickets["c1"].excluded
    assert engine.index.agents["a1"].load["chat"] == 0


def test_timeout_moves_the_offer_and_the_last_agent_leaves_it_waiting():
    engine = router(agent("a1"), agent("a2"), offer_timeout_s=10)
    engine.route(request("c1", "telegram"), 0)
    moved = engine.tick(10)
    assert [(d.kind, d.agent) for d in moved] == [("offer", "a2")]
    assert moved[0].explanation["trigger"] == "offer_timeout"
    last = engine.tick(20)
    assert last[0].kind == "wait" and engine.state_of("c1") == ("waiting", None)
    reasons = {m["agent"]: [r["code"] for r in m["reasons"]]
               for m in last[0].explanation["near_misses"]}
    assert reasons == {"a1": ["excluded"], "a2": ["excluded"]}


def test_excluded_waiting_ticket_goes_to_a_new_agent_only():
    engine = router(agent("a1"), offer_timeout_s=10)
    engine.route(request("c1", "chat"), 0)
    engine.tick(10)
    engine.route(request("c2", "chat"), 11)  # a1 is free again: gets c2, never c1
    assert engine.state_of("c2") == ("offered", "a1")
    assert [d.ticket for d in engine.add_agent(agent("a2"), 12)] == ["c1"]


def test_timeout_can_set_the_agent_away():
    engine = router(agent("a1"), agent("a2"), offer_timeout_s=10, timeout_sets_away=True)
    engine.route(request("c1", "chat"), 0)
    engine.tick(10)
    assert engine.index.agents["a1"].status == "away"
    assert engine.state_of("c1") == ("offered", "a2")


def test_wrong_agent_cannot_accept_or_decline():
    engine = router(agent("a1"), agent("a2"))
    engine.route(request("c1", "chat"), 0)
    with pytest.raises(KeyError):
        engine.accept("c1", "a2", 1)
    with pytest.raises(KeyError):
        engine.decline("c1", "a2", 1)


def absent_router(policy: str):
    engine = router(agent("a1"), agent("a2", status="offline"), on_absence=policy)
    engine.route(request("answered"), 0)
    engine.route(request("silent"), 0)
    engine.route(request("offered", "chat"), 0)
    engine.mark_answered("answered")
    engine.set_status("a2", "online", 1)
    return engine


@pytest.mark.parametrize("policy, moved", [
    ("keep", {"offered"}),
    ("requeue_unanswered", {"offered", "silent"}),
    ("requeue_all", {"offered", "silent", "answered"}),
])
def test_absence_policies(policy, moved):
    engine = absent_router(policy)
    decisions = engine.set_status("a1", "away", 2)
    assert {d.ticket for d in decisions} == moved
    assert all(d.agent == "a2" and d.explanation["trigger"] == "absence" for d in decisions)
    assert engine.held_by("a1") == {"answered", "silent", "offered"} - moved
    assert engine.held_by("a2") == moved


def test_reroute_after_missed_target_excludes_the_agent():
    engine = router(agent("a1"), agent("a2"), offer_channels=())
    engine.route(request("t1"), 0)
    decisions = engine.reroute("t1", 100)
    assert decisions[0].agent == "a2" and decisions[0].explanation["trigger"] == "reroute"
    assert engine.held_by("a1") == set()


def test_remove_agent_routes_its_tickets_again():
    engine = router(agent("a1"), agent("a2"), offer_channels=())
    engine.route(request("t1"), 0)
    decisions = engine.remove_agent("a1", 1)
    assert [(d.ticket, d.agent) for d in decisions] == [("t1", "a2")]
    assert "a1" not in engine.index


def test_release_by_the_wrong_agent_is_refused():
    engine = router(agent("a1"), agent("a2"))
    engine.route(request("t1"), 0)
    with pytest.raises(KeyError):
        engine.release("a2", "t1", 1)


def test_claim_refused_for_freed_capacity_keeps_the_ticket_waiting():
    allowed = {"ok": False}
    engine = router(agent("a1", capacity={"email": 1}), offer_channels=(),
                    claim=lambda a, t: t == "busy" or allowed["ok"])
    engine.route(request("busy"), 0)
    engine.route(request("t1"), 1)
    assert engine.release("a1", "busy", 2) == []
    assert engine.state_of("t1") == ("waiting", None)
    allowed["ok"] = True
    assert [d.ticket for d in engine.on_capacity("a1", 3)] == ["t1"]


def test_a_refused_waiting_ticket_is_skipped_and_the_next_one_taken():
    engine = router(agent("a1", capacity={"email": 2}), offer_channels=(),
                    claim=lambda a, t: t != "locked")
    engine.route(request("busy1"), 0)
    engine.route(request("busy2"), 0)
    engine.route(request("locked", priority="urgent"), 1)
    engine.route(request("t2"), 2)
    engine.release("a1", "busy1", 3)
    assert engine.state_of("t2") == ("assigned", "a1")
    assert engine.state_of("locked") == ("waiting", None)
    assert engine.waiting(4) == ["locked"]


def test_retry_gives_a_waiting_ticket_to_an_agent_with_room():
    engine = router(agent("a1", capacity={"email": 1}), offer_channels=())
    waiting = request("t1")
    waiting.step, waiting.enqueued = 0, 5.0
    decision = engine.retry(waiting, 10)
    assert (decision.kind, decision.agent) == ("assign", "a1")
    assert decision.explanation["trigger"] == "retry"
    again = request("t2")
    assert engine.retry(again, 11).kind == "wait"
    assert engine.waiting(12) == ["t2"]
