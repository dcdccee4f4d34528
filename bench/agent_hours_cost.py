"""What rolling up an agent's hours costs when an assignment ends: ``tickets.assign.release``
(one transaction per ticket) with the roll-up (``tickets.agent_hours.assignment_ended``) beside
the same release without it, alternating in blocks in the same run.

    .venv/bin/python -m bench.agent_hours_cost --url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The database at ``--url`` is emptied and migrated (its schema is dropped). One online agent
holds ``--tickets`` email tickets, each assigned 1-3 hours before it is released.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import timedelta

from sqlalchemy import text

from config.workspaces import parse_config
from routing.model import Policy
from store import repo
from store.db import make_engine, session_factory
from store.migrate import upgrade
from store.models import Ticket, utcnow
from tickets import agent_hours, agents, assign
from tickets.route_store import StoreClaim

CONFIG = {"workspaces": [{"slug": "bench", "domains": ["bench.test"]}]}
BLOCK = 50  # releases per block; the two variants alternate block by block


def prepare(url: str, count: int):
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    config = parse_config(CONFIG).workspace("bench")
    sessions = session_factory(engine)
    now = utcnow()
    with sessions.begin() as session:
        workspace_id = repo.workspace_row(session, "bench").id
        agents.put_agent(session, config, workspace_id, "ann",
                         {"status": "online", "capacity": {"email": count}})
        tickets = [Ticket(workspace_id=workspace_id, number=n, channel="email",
                          routing_state="new", created_at=now) for n in range(1, count + 1)]
        session.add_all(tickets)
        session.flush()
        for ticket in tickets:
            claim = StoreClaim(session, workspace_id, Policy(), now - timedelta(
                seconds=3600 + ticket.number % 7200), check_presence=False)
            assert claim.take("ann", ticket)
        ids = [ticket.id for ticket in tickets]
    return sessions, config, ids


def release(sessions, config, ticket_id: int) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    with sessions.begin() as session:
        assign.release(session, config, session.get(Ticket, ticket_id), "resolved")
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--tickets", type=int, default=2000)
    args = parser.parse_args()
    sessions, config, ids = prepare(args.url, args.tickets)
    rolled_up = agent_hours.assignment_ended
    timings: dict[str, list[tuple[float, float]]] = {"with roll-up": [], "without": []}
    for block, start in enumerate(range(0, len(ids), BLOCK)):
        name = "with roll-up" if block % 2 == 0 else "without"
        agent_hours.assignment_ended = rolled_up if block % 2 == 0 else lambda *_: None
        timings[name] += [release(sessions, config, i) for i in ids[start:start + BLOCK]]
    agent_hours.assignment_ended = rolled_up
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| release | n | wall ms p50 | CPU ms p50 (this process) |\n| --- | --- | --- | --- |")
    for name, values in timings.items():
        print(f"| {name} | {len(values)} | {statistics.median(v[0] for v in values):.2f} | "
              f"{statistics.median(v[1] for v in values):.2f} |")


if __name__ == "__main__":
    main()
