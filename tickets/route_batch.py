"""Routing many tickets in one transaction: the new tickets of an ingest batch, or those of
them that have to wait, rechecked together (``tickets.assign.route_all``).

One transaction locks the tickets at once (``route_rows.lock_many``), brings the workspace's
cached router in step once (one read of the agent feed), lets the engine decide each ticket in
the given order as :func:`tickets.assign.route` would (the router forgets each ticket after its
decision, every decision has its own time, a customer's previous agent is the one given their
ticket earlier in the batch), claims through :class:`BatchClaim`, and writes the tickets, the
assignments, the agents and the audit rows back with multi-row statements before its one
commit. A crash before the commit leaves every ticket ``new`` and nothing claimed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from config.workspaces import WorkspaceConfig
from routing.model import Decision
from store.models import utcnow
from tickets import agent_cache, route_pg, route_rows
from tickets import route_store as rs
from tickets.agent_feed import Changes
from tickets.batch_claim import AgentBusy, BatchClaim


def write(session: Session, claim: BatchClaim, done: list, commit: bool = False,
          then_read=None):
    """Store the batch: its assignments, agents, audit rows and tickets. On PostgreSQL in one
    statement (``tickets.route_pg``: one round trip), elsewhere in a statement per kind.
    ``commit``: on PostgreSQL, also commit in the same round trip, and read the agent feed
    after the commit with ``then_read`` (a feed cursor and keys, ``agent_cache.next_read``)
    if given; returns that read (None: none was made, or it failed)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        audits, tickets = route_rows.many_rows(done)
        if all(row.keys() - {"id"} == route_pg.TICKET_SET for row in tickets):
            rows = {"assignments": claim.assignments, "agents": claim.agent_rows(),
                    "audits": audits, "tickets": tickets}
            claim.written()
            route_rows.expire_many(session, done)
            if not commit:
                return route_pg.write(conn, **rows)
            return route_pg.write_commit_read(conn, claim.workspace_id, then_read, **rows)
    claim.write()
    route_rows.write_many(session, done)
    return None


@dataclass
class Outcome:
    """What one batch transaction did: its decisions; ``alone``: a ticket to decide next in a
    transaction of its own (its first decision met an agent busy elsewhere after another agent
    refused it: the one-ticket path lets go of a refusing agent's lock, so it may wait);
    ``later``: the tickets left for another batch transaction (after an agent busy elsewhere,
    of another workspace); ``locked_elsewhere``: those another transaction held locked (for the
    one-ticket path, which waits for them); ``read``: the agent feed read right after the
    transaction committed (``decide``'s ``commit``), if it was."""
    decisions: list[Decision] = field(default_factory=list)
    alone: int | None = None
    later: list[int] = field(default_factory=list)
    locked_elsewhere: list[int] = field(default_factory=list)
    read: Changes | None = None  # the agent feed read after this transaction committed
    feed: tuple | None = None  # with read: (database engine, workspace id) it was read in


def decide(session: Session, config: WorkspaceConfig, ticket_ids: list[int], state: str,
           decide_one, write_wait: bool = True, commit: bool = False) -> Outcome:
    """Lock the tickets; decide each one in ``state`` with ``decide_one(router, request,
    now)`` in the order given, and write the decisions back (the waits only with
    ``write_wait``). ``commit``: where the store can (PostgreSQL), commit in the round trip
    of the writes, and when some tickets had to wait read the agent feed after the commit
    in it too (``Outcome.read``, for the recheck of the waits); the caller's commit then
    finds nothing to do."""
    outcome, read = Outcome(), None
    ahead = agent_cache.read_ahead(session, config.routing) \
        if session.get_bind().dialect.name == "postgresql" else None
    if ahead is None:
        rows = route_rows.lock_many(session, ticket_ids)
    else:  # one round trip: the tickets locked, the feed read for the last workspace
        rows, read = route_pg.lock_and_read(session, ticket_ids, ahead)
    outcome.locked_elsewhere = [t for t in ticket_ids if t not in rows]
    todo = [rows[t] for t in ticket_ids if t in rows and rows[t].routing_state == state]
    if not todo:
        return outcome
    workspace_id = todo[0].workspace_id
    outcome.later = [row.id for row in todo if row.workspace_id != workspace_id]
    todo = [row for row in todo if row.workspace_id == workspace_id]
    routing = config.routing
    claim = BatchClaim(session, workspace_id, routing.make_policy(),
                       {str(row.id): row for row in todo}, {})
    now = utcnow()
    if ahead is not None and ahead.workspace_id != workspace_id:
        read = None  # read for another workspace: this one's feed is read on its own
    with agent_cache.cached_router(session, routing, workspace_id, now, claim,
                                   claim.confirmed, read) as router:
        claim.known = agent_cache.known_versions(session, routing, workspace_id)
        done = _each(router, claim, todo, routing, decide_one, outcome)
        if not claim.settle():  # the router's view was stale: its claims are void
            agent_cache.read_again(session, routing, workspace_id, now,
                                   {key for key, _ticket, _at in claim.noted})
            done = _each(router, claim, todo, routing, decide_one, outcome)
    done = [d for d in done if write_wait or d[2].kind != "wait"]
    waits = commit and any(decision.kind == "wait" for _row, _request, decision in done)
    after = write(session, claim, done, commit, then_read=agent_cache.next_read(
        session, routing, workspace_id) if waits else None)
    if after is not None:
        outcome.read, outcome.feed = after, (session.get_bind(), workspace_id)
    outcome.decisions = [decision for _row, _request, decision in done]
    return outcome


def _each(router, claim: BatchClaim, todo: list, routing, decide_one, outcome: Outcome):
    """Decide each ticket in order: (row, request, decision) of each decided; an agent busy
    elsewhere ends the pass (the rest go to ``outcome``)."""
    done, handed = [], {}  # handed: customer id -> agent given their last ticket here
    for place, row in enumerate(todo):
        previous = handed.get(row.customer_id, row.previous) if row.customer_id \
            else row.previous
        request = rs.request_of(row, routing, previous)
        claim.now = now = utcnow()
        try:
            decision = decide_one(router, request, now.timestamp())
        except AgentBusy:
            rest = [r.id for r in todo[place:]]
            if place == 0:  # nothing decided here: no progress unless it may wait
                outcome.alone, rest = rest[0], rest[1:]
            outcome.later[:0] = rest
            break
        finally:
            router.forget_tickets()
        done.append((row, request, decision))
        if decision.agent is not None:  # the customer's agent for their next ticket
            handed[row.customer_id] = decision.agent
    return done
