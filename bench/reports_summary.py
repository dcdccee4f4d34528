"""The summary report over 1,000,000 tickets on PostgreSQL: latency of
``tickets.reports.summary`` per ``group_by`` for a 30-day and a whole-year range, from the
rollup (calendar and business hours, Europe/Prague, and Asia/Kathmandu's +5:45 for days and
weeks) beside the per-ticket aggregate query (``summary_in_sql``) in the same run.

    .venv/bin/python -m bench.reports_summary --url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The database at ``--url`` is emptied and migrated (its schema is dropped). Tickets are made by
one ``INSERT ... SELECT generate_series`` over a year, in one workspace, with the report's
columns filled as the SLA clock would (70 % answered, 60 % resolved, 5 % reopened, 10 %
breached, one or two tags of five); the triggers log every one of them, as the migration
logs the tickets already there; then the log is folded into the rollup
(``tickets.report_fold.fold_all``) and the tables vacuumed and analyzed. Wall-clock p50 and
p99 and the client's CPU ms (p50) per report, after one warm-up report per case; the load
average beside.
"""
from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.common import percentile
from store.db import make_engine, session_factory
from store.migrate import upgrade
from tickets.report_fold import fold_all
from tickets.reports import GROUPS, SummaryQuery, summary, summary_in_sql

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


def fresh_store(engine) -> None:
    """The database emptied, migrated to head, with the one workspace (id 1) the fill uses."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (id, slug, name, last_ticket_number) "
                          "VALUES (1, 'bench', 'bench', 0)"))


def fill(engine, count: int) -> None:
    fresh_store(engine)
    with engine.begin() as conn:
        conn.execute(text(FILL), {"start": YEAR_START, "count": count})


def trigger_cost(engine, count: int) -> None:
    """What the report log's triggers add to writing tickets: the same INSERT of ``count``
    tickets, an UPDATE of a reported column (status) and one of another (updated_at), with the
    triggers disabled and enabled, on a fresh schema each time."""
    print("| triggers | insert ms | update status ms | update updated_at ms |\n"
          "| --- | --- | --- | --- |")
    for enabled in (False, True, False, True):
        fill(engine, 0)
        with engine.begin() as conn:
            if not enabled:
                conn.execute(text("ALTER TABLE tickets DISABLE TRIGGER USER"))
        timings = []
        for statement in (FILL, "UPDATE tickets SET status = 'open' WHERE status = 'new'",
                          "UPDATE tickets SET updated_at = now()"):
            with engine.begin() as conn:
                started = time.perf_counter()
                conn.execute(text(statement), {"start": YEAR_START, "count": count})
                timings.append((time.perf_counter() - started) * 1000)
        print(f"| {'on' if enabled else 'off'} | " + " | ".join(f"{t:.0f}" for t in timings)
              + " |", flush=True)


def fold(engine) -> int:
    folded = fold_all(session_factory(engine))
    vacuum(engine)
    return folded


def vacuum(engine) -> int:
    """VACUUM ANALYZE the tables read; the log's dead rows left (a transaction elsewhere on
    the server older than the fold keeps them, and every read of the log steps over them)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE tickets, report_blocks, report_log"))
        return conn.scalar(text("SELECT n_dead_tup FROM pg_stat_user_tables "
                                "WHERE relname = 'report_log'"))


def measure(engine, report, days: int, group_by: str, zone: str, hours: str,
            rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and client CPU milliseconds of ``rounds`` reports."""
    query = SummaryQuery(YEAR_START + timedelta(days=100),
                         YEAR_START + timedelta(days=100 + days), group_by,
                         ZoneInfo(zone), zone, hours)
    wall, cpu = [], []
    with Session(engine) as session:
        report(session, 1, query)  # warm-up, not counted: caches, compiled statements
        session.rollback()
        for _ in range(rounds):
            started, used = time.perf_counter(), time.process_time()
            report(session, 1, query)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
            session.rollback()
    return wall, cpu


def cases():
    for days in (30, 365):
        for group_by in GROUPS:
            zones = ("Europe/Prague", "Asia/Kathmandu") if group_by in ("day", "week") \
                else ("Europe/Prague",)
            for zone in zones:
                for hours in ("calendar", "business"):
                    yield days, group_by, zone, hours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--old-rounds", type=int, default=5,
                        help="rounds of the per-ticket query (seconds each over a year)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database as a previous run left it (no fill)")
    parser.add_argument("--trigger-cost", action="store_true",
                        help="only measure what the triggers add to writing --tickets tickets")
    args = parser.parse_args()
    engine = make_engine(args.url)
    if args.trigger_cost:
        return trigger_cost(engine, args.tickets)
    if not args.reuse:
        started = time.perf_counter()
        fill(engine, args.tickets)
        print(f"{args.tickets} tickets (and their log rows) in "
              f"{time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        print(f"{fold(engine)} log rows folded in {time.perf_counter() - started:.0f} s")
    print(f"log rows dead after VACUUM: {vacuum(engine)}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| range | group_by | tz | hours | rollup p50 ms | rollup p99 ms | rollup CPU ms "
          "| per-ticket p50 ms | per-ticket p99 ms |\n" + "| --- " * 9 + "|")
    for days, group_by, zone, hours in cases():
        wall, cpu = measure(engine, summary, days, group_by, zone, hours, args.rounds)
        old = "| |"
        if hours == "calendar" and args.old_rounds:
            before, _ = measure(engine, summary_in_sql, days, group_by, zone, hours,
                                args.old_rounds)
            old = f"{percentile(before, 50):.0f} | {percentile(before, 99):.0f} |"
        print(f"| {days} days | {group_by} | {zone} | {hours} | {percentile(wall, 50):.0f} | "
              f"{percentile(wall, 99):.0f} | {percentile(cpu, 50):.0f} | {old}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
