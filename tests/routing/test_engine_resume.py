"""Router.resume: a waiting ticket rebuilt from the store keeps its place and its ladder."""
from routing.model import Step

from tests.routing.helpers import agent, request, router


def test_resumed_ticket_is_waiting_and_goes_to_freed_capacity():
    r = router(agent("a", {"billing": 3}, status="offline"))
    r.resume(request("T1", required={"billing": 2}, enqueued=5.0), now=10.0)
    assert r.state_of("T1") == ("waiting", None)
    decisions = r.set_status("a", "online", now=20.0)
    assert [(d.ticket, d.kind, d.agent) for d in decisions] == [("T1", "assign", "a")]
    assert decisions[0].explanation["waited_s"] == 15.0


def test_resumed_ticket_climbs_its_ladder_from_the_stored_rung():
    ladder = (Step("lower_levels", 60), Step("lower_levels", 60))
    r = router(agent("a", {"billing": 1}))
    ticket = request("T1", required={"billing": 3}, ladder=ladder, step=1, step_entered=100.0)
    r.resume(ticket, now=120.0)
    assert r.next_timer() == 160.0
    assert r.tick(159.0) == []
    [decision] = r.tick(160.0)
    assert (decision.kind, decision.agent, decision.explanation["step"]) == ("assign", "a", 2)


def test_resume_refuses_a_known_ticket():
    r = router(agent("a"))
    r.resume(request("T1"), now=0.0)
    try:
        r.resume(request("T1"), now=0.0)
    except ValueError as exc:
        assert "already routed" in str(exc)
    else:
        raise AssertionError("resume accepted a ticket twice")
