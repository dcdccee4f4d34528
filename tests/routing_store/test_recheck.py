"""A "wait" decided on a stale view: another transaction freed room after the route read the
agents, and its refill ran before the ticket was visibly waiting. ``assign.recheck`` (run by
``route_all`` once the wait committed) closes that window."""
from store import repo
from tests.routing_store.helpers import holders, put_agent, routed_ticket, ticket
from tickets import assign
from tickets import route_store as rs


def free_without_refill(rt, number: int) -> None:
    """End the ticket's assignment as a concurrent worker would, before its refill."""
    config = rt.config.workspace("demo")
    with rt.sessions.begin() as session:
        row = repo.ticket_by_number(session, repo.workspace_row(session, "demo").id, number)
        assign.release(session, config, rs.lock_ticket(session, row.id), "resolved")


def recheck(rt, number: int):
    with rt.sessions.begin() as session:
        row = repo.ticket_by_number(session, repo.workspace_row(session, "demo").id, number)
        return assign.recheck(session, rt.config.workspace("demo"), row.id)


def test_recheck_gives_a_stale_wait_the_room_freed_meanwhile(rt_client):
    rt, client = rt_client
    assert put_agent(client, "alice", {"status": "away"}).status_code == 200
    held = routed_ticket(rt)
    waiting = routed_ticket(rt)
    assert ticket(rt, waiting).routing_state == "waiting"
    free_without_refill(rt, held)
    assert holders(rt) == {}
    decision = recheck(rt, waiting)
    assert (decision.kind, decision.agent) == ("assign", "bob")
    assert decision.explanation["trigger"] == "retry"
    assert holders(rt) == {waiting: "bob"}
    assert ticket(rt, waiting).routing_state == "assigned"


def test_recheck_leaves_a_ticket_nobody_can_take_untouched(rt_client):
    rt, client = rt_client
    assert put_agent(client, "alice", {"status": "away"}).status_code == 200
    routed_ticket(rt)
    waiting = routed_ticket(rt)
    before = ticket(rt, waiting)
    assert recheck(rt, waiting) is None
    after = ticket(rt, waiting)
    assert (after.routing_state, after.routing_reason, after.queued_at) == (
        "waiting", before.routing_reason, before.queued_at)
