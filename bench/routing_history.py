"""The cost of the routing batch's lock (``tickets.route_rows.LOCK_MANY``) as a customer's
history grows (issue 12): a batch of 10 new tickets of one customer who has 0, 1,000 and
10,000 earlier tickets, each assigned (and ended), in a store of its own (SQLite file or an
emptied PostgreSQL database, migrated to head). Per size: the median wall time and this
process's CPU time per LOCK_MANY (PostgreSQL's own CPU is in the server: wall time is its
measure), over ``--repeat`` runs, each in a transaction rolled back.

    .venv/bin/python -m bench.routing_history --url sqlite:////tmp/history.db
    .venv/bin/python -m bench.routing_history --url postgresql+psycopg://postgres@127.0.0.1:5432/x

Runs against the code of the worktree it is started from (a base worktree of main has no
``assignments.customer_id``: the rows are written without it)."""
from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text

from bench.common import percentile
from store.db import make_engine, session_factory
from store.migrate import upgrade
from store.models import Agent, Assignment, Customer, Ticket, Workspace
from tickets import route_rows

SIZES = (0, 1_000, 10_000)
BATCH = 10
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def fresh_store(url: str):
    """The store emptied and migrated to head; its engine."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        if os.path.exists(path):
            os.remove(path)
    else:
        with make_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    return make_engine(url)


def fill(engine, earlier: int) -> list[int]:
    """A workspace, 20 agents, a customer with ``earlier`` assigned (ended) tickets and
    ``BATCH`` new ones; returns the new tickets' ids."""
    with session_factory(engine).begin() as session:
        ws = session.scalar(insert(Workspace).returning(Workspace.id),
                            {"slug": "bench", "name": "bench", "last_ticket_number": 0})
        customer = session.scalar(insert(Customer).returning(Customer.id),
                                  {"workspace_id": ws, "name": "monitoring"})
        agents = list(session.scalars(insert(Agent).returning(Agent.id, sort_by_parameter_order=True), [
            {"workspace_id": ws, "key": f"a{n}", "name": f"a{n}", "email": f"a{n}@x.test",
             "skills": {}, "departments": [], "capacity": {"email": 5}, "total": 5.0,
             "status": "online", "load": {}, "used": 0.0} for n in range(20)]))
        rows = [{"workspace_id": ws, "number": n + 1, "channel": "email",
                 "customer_id": customer, "status": "resolved" if n < earlier else "new",
                 "routing_state": "assigned" if n < earlier else "new",
                 "created_at": START + timedelta(minutes=n)} for n in range(earlier + BATCH)]
        ids = list(session.scalars(insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True),
                                   rows))
        carries = "customer_id" in Assignment.__table__.c
        held = [{"workspace_id": ws, "ticket_id": t, "agent_id": agents[n % len(agents)],
                 "channel": "email", "units": 1.0, "started_at": START + timedelta(minutes=n),
                 "accepted_at": START + timedelta(minutes=n),
                 "ended_at": START + timedelta(minutes=n, seconds=30), "end_reason": "resolved",
                 **({"customer_id": customer} if carries else {})}
                for n, t in enumerate(ids[:earlier])]
        if held:
            session.execute(insert(Assignment), held)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return ids[earlier:]


def measure(engine, tickets: list[int], repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of one LOCK_MANY of the tickets."""
    walls, cpus = [], []
    session = session_factory(engine)()
    try:
        for _ in range(repeat):
            with session.begin():
                wall, cpu = time.perf_counter(), time.process_time()
                rows = route_rows.lock_many(session, tickets)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                assert len(rows) == len(tickets)
                session.rollback()
    finally:
        session.close()
    return percentile(walls, 50) * 1000, percentile(cpus, 50) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    for earlier in SIZES:
        engine = fresh_store(args.url)
        tickets = fill(engine, earlier)
        wall, cpu = measure(engine, tickets, args.repeat)
        print(f"{engine.dialect.name:10} earlier={earlier:6} LOCK_MANY({BATCH}) "
              f"median wall {wall:8.3f} ms  client cpu {cpu:7.3f} ms", flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
