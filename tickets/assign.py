"""Assigning tickets to agents in short transactions: one per decision,
or one for the new tickets of an ingest batch (``route_all``, ``tickets.route_batch``).

A ticket's ``routing_state``: "" (not routed: routing is off, spam, automatic mail), ``new``
(to route), ``waiting`` (in the pending queue), ``parked`` (out of the automatic queue),
``offered`` (waiting for the agent's accept, ``tickets.offers``), ``assigned``, ``done``
(finished: resolved, closed, merged, deleted).

Each operation brings the workspace's :class:`routing.engine.Router` in step with the store
(kept between decisions by ``tickets.agent_cache``; a refill uses a throw-away router of its one
agent), gives it the tickets concerned, lets the pure engine decide, and claims through
:class:`tickets.route_store.StoreClaim`. The pending queue is the set of waiting tickets in the
store; ``refill`` hands an agent's freed capacity to the best of them, ``climb`` applies due
ladder rungs. The periodic sweep (``workers.assignment.sweep``) calls ``route`` for tickets left ``new``
by a killed worker, and ``climb``; so nothing waits forever on a lost follow-up.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from config.workspaces import WorkspaceConfig
from routing.engine import Router
from routing.ladder import next_rung_at
from routing.model import PRIORITY_RANK, Decision, Request
from store import repo
from store.models import Agent, Assignment, Ticket, utcnow
from tickets import agent_cache, agent_hours
from tickets.agent_feed import Changes
from tickets import route_batch, route_rows, route_store as rs

log = logging.getLogger(__name__)
REFILL_WINDOW = 500  # waiting tickets looked at when capacity frees, best first
BATCH_MAX = 100  # new tickets routed in one transaction (route_all)
# The read that tells whether the waits need a recheck: no write lock on SQLite (a plain
# BEGIN), no BEGIN and COMMIT round trips on PostgreSQL (one statement, its own snapshot).
READ_ONLY = {"sqlite": {"readonly": True}, "postgresql": {"isolation_level": "AUTOCOMMIT"}}
RANK = case(PRIORITY_RANK, value=Ticket.priority, else_=1)


def _router(session: Session, config: WorkspaceConfig, ticket, now: datetime):
    """The workspace's router (all agents, cached in this process) claiming in the store;
    ``ticket`` (a row of ``route_rows.lock_for_routing``) is locked already."""
    claim = rs.StoreClaim(session, ticket.workspace_id, config.routing.make_policy(), now,
                          locked=ticket)
    return agent_cache.cached_router(session, config.routing, ticket.workspace_id, now, claim)


def _one_agent_router(session: Session, config: WorkspaceConfig, row: Agent,
                      now: datetime) -> Router:
    """A throw-away router of one agent; its claims skip tickets another worker has locked."""
    routing = config.routing
    policy = routing.make_policy()
    claim = rs.StoreClaim(session, row.workspace_id, policy, now, skip_locked=True)
    return Router(policy, [rs.engine_agent(row, routing, policy, now)], claim)


def route(session: Session, config: WorkspaceConfig, ticket_id: int,
          now: datetime | None = None, trigger: str = "arrival") -> Decision | None:
    """Route one ``new`` ticket: assign it to the best eligible agent, else queue it."""
    return _decide(session, config, ticket_id, "new",
                   lambda router, request, at: router.route(request, at, trigger), now)


def route_all(sessions, config: WorkspaceConfig, ticket_ids) -> list[Decision]:
    """Route the new tickets (after the ingest batch committed) in order, up to
    ``BATCH_MAX`` in one transaction (``tickets.route_batch``). The tickets that had to wait
    get one :func:`recheck` together once their waits committed, unless no agent changed
    since the waits were decided (the feed of agent changes says so in one query). A batch
    the database refuses (a deadlock, a lock timeout) is routed again ticket by ticket. If the
    database fails once decisions have committed, those are returned (the caller publishes
    them) and the rest stays to the sweep; before that, the error is raised."""
    ticket_ids = list(dict.fromkeys(ticket_ids))
    decided, after = {}, AfterCommit()
    try:
        for decision in _batches(sessions, config, ticket_ids, "new", _arrival, after=after):
            decided[decision.ticket] = decision
        waits = [int(d.ticket) for d in decided.values() if d.kind == "wait"]
        if waits:
            for decision in _rechecked(sessions, config, waits, after):
                decided[decision.ticket] = decision
    except SQLAlchemyError:  # the database failed: what committed is returned, to publish
        if not decided:
            raise
        log.exception("routing stopped after %d of %d tickets; the sweep routes the rest",
                      len(decided), len(ticket_ids))
    return [decided[str(t)] for t in ticket_ids if str(t) in decided]


def _arrival(router: Router, request: Request, now: float) -> Decision:
    return router.route(request, now, "arrival")


@dataclass
class AfterCommit:
    """The agent feed read right after the last routing transaction committed (PostgreSQL
    reads it in the commit's round trip, ``tickets.route_pg``), while no transaction has
    run since: the recheck's read, done already, with (database engine, workspace id)."""
    read: Changes | None = None
    feed: tuple | None = None

    def note(self, outcome: route_batch.Outcome | None) -> None:
        self.read, self.feed = (outcome.read, outcome.feed) if outcome else (None, None)


def _rechecked(sessions, config: WorkspaceConfig, ticket_ids: list[int],
               after: AfterCommit | None = None) -> list[Decision]:
    """:func:`recheck` of the waiting tickets, in batches, if an agent changed since (read
    in a transaction of its own, unless ``after`` holds that read already)."""
    if after is not None and after.read is not None:
        bind, workspace_id = after.feed
        unchanged = agent_cache.unchanged_after(bind, config.routing, workspace_id, utcnow(),
                                                after.read)
    else:
        with sessions.begin() as session:
            session.connection(execution_options=READ_ONLY[session.get_bind().dialect.name])
            unchanged = agent_cache.unchanged_since_last_read(session, config.routing,
                                                              utcnow())
    if unchanged:
        return []
    return list(_batches(sessions, config, ticket_ids, "waiting", Router.retry,
                         write_wait=False))


def _batches(sessions, config: WorkspaceConfig, ticket_ids: list[int], state: str, decide,
             write_wait: bool = True, after: AfterCommit | None = None):
    """The decisions of the tickets in ``state``, made in batch transactions; a ticket
    another transaction held locked goes through the one-ticket path afterwards. ``after``:
    keeps the agent feed read after the last transaction committed, if one was."""
    single = route if state == "new" else recheck
    after = after or AfterCommit()
    pending, alone = list(ticket_ids), []
    while pending:
        batch, pending = pending[:BATCH_MAX], pending[BATCH_MAX:]
        after.note(None)
        try:
            with sessions.begin() as session:
                outcome = route_batch.decide(session, config, batch, state, decide, write_wait,
                                             commit=True)
        except (OperationalError, IntegrityError) as exc:
            log.warning("routing %d tickets at once failed (%s); one at a time", len(batch),
                        exc)
            alone += batch
            continue
        after.note(outcome)
        yield from outcome.decisions
        if outcome.alone is not None:
            after.note(None)
            with sessions.begin() as session:
                decision = single(session, config, outcome.alone)
            if decision is not None:
                yield decision
        pending[:0] = outcome.later
        alone += outcome.locked_elsewhere
    for ticket_id in alone:
        after.note(None)
        with sessions.begin() as session:
            decision = single(session, config, ticket_id)
        if decision is not None:
            yield decision


def recheck(session: Session, config: WorkspaceConfig, ticket_id: int,
            now: datetime | None = None) -> Decision | None:
    """One more attempt for a ticket whose "wait" just committed. A concurrent transaction may
    have freed room after this route read the agents, and its refill ran before the ticket was
    visibly waiting; so after the commit either this read sees that room or that refill saw
    the ticket. Nothing is written (None) when the ticket still has to wait."""
    return _decide(session, config, ticket_id, "waiting", Router.retry, now, write_wait=False)


def _decide(session: Session, config: WorkspaceConfig, ticket_id: int, state: str, decide,
            now: datetime | None, write_wait: bool = True) -> Decision | None:
    """Lock the ticket; if it is in ``state``, let ``decide(router, request, now)`` decide
    and write the decision back (a "wait" only with ``write_wait``)."""
    now = now or utcnow()
    ticket, previous = route_rows.lock_for_routing(session, ticket_id)
    if ticket is None or ticket.routing_state != state:
        return None
    request = rs.request_of(ticket, config.routing, previous)
    with _router(session, config, ticket, now) as router:
        decision = decide(router, request, now.timestamp())
    if decision.kind == "wait" and not write_wait:
        return None
    route_rows.write_back(session, ticket, request, decision)
    return decision


def waiting_requests(session: Session, routing, workspace_id: int, channels,
                     limit: int = REFILL_WINDOW) -> list[Request]:
    """The best waiting tickets of the channels as engine requests (not loaded as rows). The
    best ids first, then their columns: the JSON ladder name is read for those rows only."""
    best = (select(Ticket.id).where(Ticket.workspace_id == workspace_id,
                                    Ticket.routing_state == "waiting",
                                    Ticket.channel.in_(channels))
            .order_by(RANK.desc(), Ticket.queued_at, Ticket.id).limit(limit))
    rows = session.execute(select(*rs.REQUEST_COLUMNS).where(Ticket.id.in_(best)))
    return [rs.build_request(row, row.ladder, routing) for row in rows]


def refill(session: Session, config: WorkspaceConfig, workspace_id: int, agent_key: str,
           now: datetime | None = None) -> list[Decision]:
    """Give the agent the best waiting tickets it can take, while it has room."""
    now = now or utcnow()
    row = session.scalar(select(Agent).where(Agent.workspace_id == workspace_id,
                                             Agent.key == agent_key))
    if row is None or row.status != "online":
        return []
    channels = [c for c, n in row.capacity.items() if n > 0]
    requests = {r.id: r for r in waiting_requests(session, config.routing, workspace_id,
                                                   channels)}
    if not requests:
        return []
    router = _one_agent_router(session, config, row, now)
    for request in requests.values():
        router.resume(request, now.timestamp())
    decisions = router.on_capacity(agent_key, now.timestamp(), "capacity")
    for decision in decisions:  # the claim locked and loaded each of these tickets
        ticket = session.get(Ticket, int(decision.ticket))
        route_rows.write_back(session, ticket, requests[decision.ticket], decision)
    return decisions


def climb(session: Session, config: WorkspaceConfig, ticket_id: int,
          now: datetime | None = None) -> list[Decision]:
    """Apply the ticket's due ladder rungs (widening, parking, escalating) and try again."""
    now = now or utcnow()
    ticket, previous = route_rows.lock_for_routing(session, ticket_id)
    if ticket is None or ticket.routing_state != "waiting":
        return []
    request = rs.request_of(ticket, config.routing, previous)
    with _router(session, config, ticket, now) as router:
        router.resume(request, now.timestamp())
        decisions = [d for d in router.tick(now.timestamp()) if d.ticket == request.id]
    if decisions:
        route_rows.write_back(session, ticket, request, decisions[-1])
    else:  # nothing was due after all (a concurrent change): keep the row's timer honest
        route_rows.set_columns(session, ticket.id,
                               {"routing_next_at": rs.moment(next_rung_at(request))})
    return decisions


def release(session: Session, config: WorkspaceConfig, ticket: Ticket, reason: str,
            requeue: bool = False, now: datetime | None = None) -> str | None:
    """End the (locked) ticket's open assignment; returns the agent key that got room back.

    ``requeue`` puts the ticket back to ``new`` (re-route), else it is ``done``."""
    now = now or utcnow()
    open_row = session.scalar(select(Assignment).where(Assignment.ticket_id == ticket.id,
                                                       Assignment.ended_at.is_(None)))
    ticket.routing_state = "new" if requeue else "done"
    ticket.routing_next_at = None
    if requeue and ticket.assignee:
        repo.audit(session, ticket, "assignee", ticket.assignee, "", "router")
        ticket.assignee = None
    if open_row is None:
        return None
    open_row.ended_at, open_row.end_reason = now, reason[:40]
    session.flush()
    agent = session.get(Agent, open_row.agent_id)
    agent = rs.lock_agent(session, ticket.workspace_id, agent.key)
    policy = config.routing.make_policy()
    rs.recount(session, agent, policy)
    agent_hours.assignment_ended(session, open_row, policy)  # for the agents report
    return agent.key
