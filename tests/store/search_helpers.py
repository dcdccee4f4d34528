"""Helpers of the full-text search tests: hostile queries, what a query finds, tickets to find,
and a ``Postgres.way`` fixed to one answer."""
from __future__ import annotations

from sqlalchemy import select

from store import repo, search
from store.models import Ticket
from tests.gateway.apifactory import add_message, add_ticket

HOSTILE = ['"', '""', '"invoice', 'invoice"', "*", "invoice*", "*invoice", ":", "text:invoice",
           "subject:invoice", "(", ")", "(invoice)", "^invoice", "^", "NEAR", "NEAR(a b)",
           "NEAR(invoice refund, 2)", "AND", "OR", "NOT", "invoice OR refund",
           "invoice AND refund", "invoice NOT refund", "-invoice", "+invoice", "'", "''",
           "'invoice':*", "invoice:*", "!invoice", "invoice & refund", "invoice | refund",
           "invoice <-> refund", "<2>", "\\", "\\\"", "{invoice}", "[a-z]", "%", "_",
           "a" * 500, "\u200b", "\u202eeciovni", "e\u0301", "🙂", "🙂 invoice"]


def found(rt, q: str) -> list[int]:
    """Ticket numbers ``q`` finds in the demo workspace, newest first."""
    with rt.read_sessions() as session:
        workspace_id = repo.workspace_row(session, "demo").id
        query = search.restrict(session, select(Ticket).where(
            Ticket.workspace_id == workspace_id), q, 1000)
        return [t.number for t in session.scalars(query.order_by(Ticket.id.desc()))]


def way(name: str, size):
    """A ``Postgres.way`` that always answers ``name`` and ``size`` ("all": every ticket)."""
    def chosen(cls, documents, filtered, top, wanted, share):
        return name, top if size == "all" else size
    return classmethod(chosen)


def tickets_with(rt, *texts: str, subject: str = "Question") -> None:
    with rt.sessions.begin() as session:
        for text in texts:
            add_message(session, add_ticket(session, subject=subject), text)
