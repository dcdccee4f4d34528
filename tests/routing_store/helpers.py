"""Helpers of the store-backed routing tests: tickets routed as the pipeline routes them, and
what the store holds afterwards (open assignments, audit trail, webhook events)."""
from __future__ import annotations

from rq import Queue
from sqlalchemy import select

from store import repo
from store.models import Agent, Assignment, AuditEntry, Ticket
from tests.gateway.apifactory import add_ticket, auth
from tickets import assign
from tickets.agents import seed_agents
from queues.outbound import QUEUE, WEBHOOK_JOB


def routed_ticket(rt, slug: str = "demo", **values) -> int:
    """A new ticket of ``slug`` routed at once (the file's agents seeded first, as the worker
    does); returns its number."""
    config = rt.config.workspace(slug)
    with rt.sessions.begin() as session:
        seed_agents(session, repo.workspace_row(session, slug).id, config.routing)
        ticket = add_ticket(session, slug, routing_state="new", **values)
        ticket_id, number = ticket.id, ticket.number
    assign.route_all(rt.sessions, config, [ticket_id])
    return number


def ticket(rt, number: int, slug: str = "demo") -> Ticket:
    with rt.read_sessions() as session:
        ws = repo.workspace_row(session, slug)
        row = repo.ticket_by_number(session, ws.id, number)
        session.expunge(row)
        return row


def holders(rt) -> dict[int, str]:
    """Ticket number -> key of the agent holding it (open assignments)."""
    with rt.read_sessions() as session:
        return dict(session.execute(
            select(Ticket.number, Agent.key).join(Assignment, Assignment.ticket_id == Ticket.id)
            .join(Agent, Agent.id == Assignment.agent_id)
            .where(Assignment.ended_at.is_(None))).all())


def events(rt, number: int, kind: str | None = None) -> list[tuple]:
    """(kind, old, new, actor) of the ticket's audit trail, oldest first."""
    with rt.read_sessions() as session:
        ws = repo.workspace_row(session, "demo")
        ticket_id = repo.ticket_by_number(session, ws.id, number).id
        query = select(AuditEntry).where(AuditEntry.ticket_id == ticket_id)
        if kind:
            query = query.where(AuditEntry.kind == kind)
        return [(e.kind, e.old, e.new, e.actor)
                for e in session.scalars(query.order_by(AuditEntry.id))]


def webhook_changes(rt) -> list[tuple[int, dict]]:
    """(ticket number, change) of every webhook push enqueued so far."""
    jobs = Queue(QUEUE, connection=rt.redis).get_jobs()
    return [(job.args[1], job.args[2]) for job in jobs if job.func_name == WEBHOOK_JOB]


def patch(client, number: int, body, slug: str = "demo"):
    return client.patch(f"/api/v1/tickets/{number}", json=body, headers=auth(slug))


def put_agent(client, key: str, body, slug: str = "demo"):
    return client.put(f"/api/v1/agents/{key}", json=body, headers=auth(slug))


def get_agent(client, key: str, slug: str = "demo"):
    return client.get(f"/api/v1/agents/{key}", headers=auth(slug))
