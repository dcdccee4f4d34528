"""The summary report over 1,000,000 tickets on PostgreSQL: latency of
``tickets.reports.summary`` per ``group_by``, for a 30-day and a whole-year range.

    .venv/bin/python -m bench.reports_summary --url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The database at ``--url`` is emptied and migrated (its schema is dropped). Tickets are made by
one ``INSERT ... SELECT generate_series`` over a year, in one workspace, with the report's
columns filled as the SLA clock would (70 % answered, 60 % resolved, 5 % reopened, 10 %
breached, one or two tags of five), then ``ANALYZE``.
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from store.db import make_engine
from store.migrate import upgrade
from tickets.reports import GROUPS, SummaryQuery, summary

YEAR_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
FILL = """
INSERT INTO tickets (workspace_id, number, subject, status, priority, channel, assignee, skills,
    tags, language, message_count, created_at, updated_at, routing_reason, sla, preferred,
    department, routing_state, routing_step, excluded, sla_policy, paused_s, reopen_count,
    sla_breached, first_response_s, first_response_bs, resolution_s, resolution_bs)
SELECT 1, n, 'bench', (ARRAY['new','open','resolved','closed','resolved'])[1 + n % 5],
    (ARRAY['low','medium','high','urgent'])[1 + n % 4],
    (ARRAY['email','chat','telegram','form'])[1 + n % 4], 'agent' || (n % 40), '{}',
    CASE WHEN n % 3 = 0 THEN '["billing","vip"]' ELSE '["t' || (n % 5) || '"]' END::json,
    '', 1, :start + (n * interval '31.5 seconds'), now(), '{}', '{}', '{}', '', '', 0, '[]',
    '', 0, CASE WHEN n % 20 = 0 THEN 1 ELSE 0 END, n % 10 = 0,
    CASE WHEN n % 10 < 7 THEN 60 + (n::bigint * 7919) % 86400 END,
    CASE WHEN n % 10 < 7 THEN 30 + (n::bigint * 7919) % 28800 END,
    CASE WHEN n % 5 IN (2, 3, 4) THEN 600 + (n::bigint * 104729) % 604800 END,
    CASE WHEN n % 5 IN (2, 3, 4) THEN 300 + (n::bigint * 104729) % 201600 END
FROM generate_series(1, :count) AS n
"""


def fill(engine, count: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (id, slug, name, last_ticket_number) "
                          "VALUES (1, 'bench', 'bench', 0)"))
        conn.execute(text(FILL), {"start": YEAR_START, "count": count})
        conn.execute(text("ANALYZE tickets"))


def measure(engine, days: int, group_by: str, rounds: int) -> list[float]:
    query = SummaryQuery(YEAR_START + timedelta(days=100),
                         YEAR_START + timedelta(days=100 + days), group_by,
                         ZoneInfo("Europe/Prague"), "Europe/Prague", "calendar")
    timings = []
    with Session(engine) as session:
        for _ in range(rounds):
            started = time.perf_counter()
            summary(session, 1, query)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    engine = make_engine(args.url)
    started = time.perf_counter()
    fill(engine, args.tickets)
    print(f"{args.tickets} tickets in {time.perf_counter() - started:.0f} s")
    print("| range | group_by | p50 ms | p99 ms |\n| --- | --- | --- | --- |")
    for days in (30, 365):
        for group_by in GROUPS:
            timings = sorted(measure(engine, days, group_by, args.rounds))
            p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
            print(f"| {days} days | {group_by} | {statistics.median(timings):.0f} | "
                  f"{p99:.0f} |")


if __name__ == "__main__":
    main()
