"""The agents report over a year of work on PostgreSQL: latency of
``tickets.agent_reports.agents_report`` for a 30-day and a whole-year range.

    .venv/bin/python -m bench.reports_agents --url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The database at ``--url`` is emptied and migrated (its schema is dropped). One workspace, 40
agents each online 08:00-17:00 every day (two ``agent_states`` rows a day), ``--tickets``
tickets over a year made by ``INSERT ... SELECT generate_series`` with the report's columns
filled as the SLA clock would (70 % answered with one reply, 60 % resolved, 10 % breached),
one assignment each (held up to 4 h), then ``ANALYZE``. Beside it, in the same run and on
the same rows, the summary report grouped by agent (``tickets.reports.summary``) as the peer.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.reports_summary import fresh_store
from routing.model import Policy
from store.db import make_engine
from tickets.agent_reports import AgentQuery, agents_report
from tickets.reports import SummaryQuery, summary

YEAR_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
AGENTS = 40
AGENT_ROWS = f"""
INSERT INTO agents (id, workspace_id, key, name, email, skills, departments, capacity, total,
    status, calendar, load, used, updated_at, version, change_seq)
SELECT a, 1, 'agent' || a, 'Agent ' || a, '', '{{}}', '[]', '{{"email": 5, "chat": 2}}', 0,
    'online', '', '{{}}', 0, now(), a, a FROM generate_series(1, {AGENTS}) AS a
"""
STATE_ROWS = f"""
INSERT INTO agent_states (workspace_id, agent_id, status, capacity, total, at)
SELECT 1, a, s.status, '{{"email": 5, "chat": 2}}', 0,
    :start + d * interval '1 day' + s.hour * interval '1 hour'
FROM generate_series(1, {AGENTS}) AS a, generate_series(0, 365) AS d,
    (VALUES ('online', 8), ('offline', 17)) AS s(status, hour)
"""
TICKET_ROWS = f"""
INSERT INTO tickets (workspace_id, number, subject, status, priority, channel, assignee, skills,
    tags, language, message_count, created_at, updated_at, routing_reason, sla, preferred,
    department, routing_state, routing_step, excluded, sla_policy, paused_s, reopen_count,
    sla_breached, first_response_s, first_response_bs, resolution_s, resolution_bs,
    first_response_at, first_response_by, resolved_at, resolved_by)
SELECT 1, n, 'bench', (ARRAY['new','open','resolved','closed','resolved'])[1 + n % 5],
    'medium', 'email', 'agent' || (1 + n % {AGENTS}), '{{}}', '[]', '', 2,
    :start + (n * interval '31.5 seconds'), now(), '{{}}', '{{}}', '{{}}', '', '', 0, '[]',
    '', 0, 0, n % 10 = 0,
    fr, fr / 3, res, res / 3,
    :start + (n * interval '31.5 seconds') + fr * interval '1 second',
    CASE WHEN fr IS NOT NULL THEN 'agent' || (1 + n % {AGENTS}) END,
    :start + (n * interval '31.5 seconds') + res * interval '1 second',
    CASE WHEN res IS NOT NULL THEN 'agent' || (1 + n % {AGENTS}) END
FROM generate_series(1, :count) AS n,
    LATERAL (SELECT CASE WHEN n % 10 < 7 THEN 60 + (n::bigint * 7919) % 86400 END AS fr,
                    CASE WHEN n % 5 IN (2, 3, 4) THEN 600 + (n::bigint * 104729) % 604800
                    END AS res) AS t
"""
REPLY_ROWS = """
INSERT INTO messages (workspace_id, ticket_id, direction, channel, native_id, dedupe_key,
    from_name, from_address, "to", cc, bcc, subject, text, reply_text, html, attachments,
    classification, raw_ref, sent_at, received_at, revision, created_at, sender_verified,
    account, author, delivery_status, delivery_detail, attempts)
SELECT 1, id, 'out', 'email', '', 'out:' || id, '', '', '[]', '[]', '[]', '', 'Hello', 'Hello',
    '', '[]', '{}', '', '', '', '', first_response_at, true, '', first_response_by, 'sent', '',
    1
FROM tickets WHERE first_response_at IS NOT NULL
"""
ASSIGNMENT_ROWS = f"""
INSERT INTO assignments (workspace_id, ticket_id, customer_id, agent_id, channel, units,
    started_at, ended_at, end_reason, accepted_at)
SELECT 1, id, customer_id, 1 + number % {AGENTS}, 'email', 1, created_at + interval '30 seconds',
    created_at + interval '30 seconds' + ((number::bigint * 7919) % 14400) * interval '1 second',
    'resolved', created_at + interval '30 seconds'
FROM tickets
"""
HOUR_ROWS = f"""
INSERT INTO agent_hours (workspace_id, agent_id, hour, online_s, load_s)
SELECT 1, a, (extract(epoch FROM :start)::bigint / 3600) + d * 24 + h, 3600,
    ((a * 7919 + d * 104729 + h) % 3600)::float
FROM generate_series(1, {AGENTS}) AS a, generate_series(0, 365) AS d, generate_series(8, 16) AS h
"""


def fill(engine, count: int) -> None:
    fresh_store(engine)
    with engine.begin() as conn:
        conn.execute(text(AGENT_ROWS))
        conn.execute(text(STATE_ROWS), {"start": YEAR_START})
        conn.execute(text(TICKET_ROWS), {"start": YEAR_START, "count": count})
        conn.execute(text(REPLY_ROWS))
        conn.execute(text(ASSIGNMENT_ROWS))
        conn.execute(text(HOUR_ROWS), {"start": YEAR_START})
        conn.execute(text("ANALYZE"))


def reports(days: int) -> dict:
    """The agents report and its peer over the same range: name -> call(session)."""
    start, end = YEAR_START + timedelta(days=100), YEAR_START + timedelta(days=100 + days)
    zone = ZoneInfo("Europe/Prague")
    agents = AgentQuery(start, end, zone, "Europe/Prague", "calendar")
    peer = SummaryQuery(start, end, "agent", zone, "Europe/Prague", "calendar")
    now = YEAR_START + timedelta(days=400)
    return {"agents": lambda session: agents_report(session, 1, agents, Policy(), now),
            "summary by agent (peer)": lambda session: summary(session, 1, peer)}


def measure(engine, report, rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this process) milliseconds per report."""
    walls, cpus = [], []
    with Session(engine) as session:
        for _ in range(rounds):
            started, cpu = time.perf_counter(), time.process_time()
            report(session)
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    return sorted(walls), cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-fill", action="store_true", help="measure the rows already there")
    args = parser.parse_args()
    engine = make_engine(args.url)
    if not args.no_fill:
        started = time.perf_counter()
        fill(engine, args.tickets)
        print(f"{args.tickets} tickets in {time.perf_counter() - started:.0f} s")
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| report | range | p50 ms | p99 ms | CPU ms of this process (p50) |\n"
          "| --- | --- | --- | --- | --- |")
    for days in (30, 365):
        for name, report in reports(days).items():
            walls, cpus = measure(engine, report, args.rounds)
            p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))]
            print(f"| {name} | {days} days | {statistics.median(walls):.0f} | {p99:.0f} | "
                  f"{statistics.median(cpus):.0f} |")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
