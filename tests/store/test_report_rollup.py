"""The report rollup (SQLite and PostgreSQL): on random timelines (replies, resolutions,
reopens, merges, postponing, spam, deletions, tag, agent and priority changes, rows deleted)
the rollup's report equals the ticket rows' one: counts and means exactly, percentiles within
the buckets' precision (2 %, or 1 s below one second), whether the log is folded, partly
folded or not at all, for every group, hours mode, time zone (half and quarter hour offsets
included) and range (off the quarter hour included); the migration logs the tickets already
there."""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from alembic.config import Config
from sqlalchemy import delete, func, select

from store import repo
from store.db import make_engine, session_factory
from store.migrate import ALEMBIC_INI
from store.models import AuditEntry, ReportLog, Ticket
from tickets import report_fold, report_rollup, reports
from tickets.reports import GROUPS, HOURS, SummaryQuery

START = datetime(2025, 3, 1, tzinfo=timezone.utc)  # US and Australian clock changes within
DAYS = 50
ZONES = ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Australia/Adelaide")
RANGES = ((START - timedelta(days=1), START + timedelta(days=DAYS + 1)),
          (START + timedelta(days=3, hours=5, minutes=7, seconds=13),
           START + timedelta(days=40, hours=2, minutes=1)),
          (START + timedelta(days=9, hours=1), START + timedelta(days=9, hours=23, minutes=50)))
CHANNELS, PRIORITIES = ("email", "chat", "telegram"), ("low", "medium", "urgent")
AGENTS, TAGS = (None, "alice", "bob", "carol"), ("billing", "vip", "bug", "=formula")


def make_tickets(session, rng: random.Random, count: int) -> list[Ticket]:
    ws = repo.workspace_row(session, "demo")
    made = [Ticket(workspace_id=ws.id, number=repo.next_ticket_number(session, ws.id),
                   subject="t", channel=rng.choice(CHANNELS), priority=rng.choice(PRIORITIES),
                   assignee=rng.choice(AGENTS), tags=rng.sample(TAGS, rng.randrange(3)),
                   status="new", sla_policy="default",
                   created_at=START + timedelta(seconds=rng.randrange(DAYS * 86400)))
            for _ in range(count)]
    session.add_all(made)
    session.flush()
    return made


def seconds(rng: random.Random) -> float:
    return rng.choice((rng.uniform(0, 1.5), rng.uniform(1, 600), rng.uniform(600, 900_000)))


def change(session, ticket: Ticket, rng: random.Random, others: list[Ticket]) -> None:
    """One random thing that happens to a ticket."""
    roll = rng.random()
    if roll < 0.25 and ticket.first_response_s is None:
        ticket.first_response_s = seconds(rng)
        ticket.first_response_bs = ticket.first_response_s * rng.random()
    elif roll < 0.5:
        repo.set_status(session, ticket, rng.choice(("resolved", "closed")))
        ticket.resolution_s = seconds(rng)
        ticket.resolution_bs = ticket.resolution_s * rng.random()
        ticket.sla_breached = rng.choice((None, True, False))
    elif roll < 0.62:
        repo.set_status(session, ticket, rng.choice(("open", "postponed", "answered")))
    elif roll < 0.67:
        repo.set_status(session, ticket, rng.choice(("spam", "deleted")))
    elif roll < 0.72:
        target = rng.choice(others)
        if target.id != ticket.id and target.merged_into_id is None:
            ticket.merged_into_id = target.id
    elif roll < 0.8:
        ticket.tags = rng.sample(TAGS, rng.randrange(3))
    elif roll < 0.9:
        ticket.assignee = rng.choice(AGENTS)
    else:
        ticket.priority = rng.choice(PRIORITIES)


def live(sessions, rng: random.Random, count: int = 240, rounds: int = 3) -> None:
    """Tickets made, then changed over several transactions; some rows deleted."""
    with sessions.begin() as session:
        made = make_tickets(session, rng, count)
    for _ in range(rounds):
        with sessions.begin() as session:
            tickets = session.scalars(select(Ticket)).all()
            for ticket in rng.sample(tickets, len(tickets) // 2):
                change(session, ticket, rng, tickets)
    with sessions.begin() as session:
        targets = set(session.scalars(select(Ticket.merged_into_id)))
        for ticket in session.scalars(select(Ticket).where(
                Ticket.id.in_([t.id for t in made[:count // 10]]))):
            if ticket.id not in targets:
                session.execute(delete(AuditEntry).where(AuditEntry.ticket_id == ticket.id))
                session.delete(ticket)


def assert_agree(rolled: list[dict], exact: list[dict]) -> None:
    assert [r["group"] for r in rolled] == [r["group"] for r in exact]
    for got, want in zip(rolled, exact):
        for name in ("created", "resolved", "reopened", "backlog", "sla"):
            assert got[name] == want[name], (got["group"], name)
        for name in ("first_response", "resolution"):
            assert got[name]["count"] == want[name]["count"], (got["group"], name)
            for figure in ("p50_s", "p90_s", "mean_s"):
                g, w = got[name][figure], want[name][figure]
                assert (g is None) == (w is None), (got["group"], name, figure)
                bound = 0.002 if figure == "mean_s" or w is None else max(0.02 * w, 1.0)
                assert w is None or abs(g - w) <= bound + 0.002, (got, want, figure)


def queries():
    for group_by in GROUPS:
        for zone in (ZONES if group_by in ("day", "week") else ("Europe/Prague",)):
            for start, end in RANGES:
                for hours in HOURS:
                    yield SummaryQuery(start, end, group_by, ZoneInfo(zone), zone, hours)


def reading(engine):
    """Read sessions: on SQLite they leave the write lock to the fold."""
    return session_factory(engine.execution_options(readonly=True))


def check_every_query(engine, workspace_id: int, fold: bool) -> None:
    with reading(engine)() as session:
        for query in queries():
            exact = reports.summary_in_python(session, workspace_id, query)
            assert_agree(report_rollup.summary(engine, workspace_id, query, fold=fold), exact)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def workspace_id(engine) -> int:
    with session_factory(engine).begin() as session:
        return repo.workspace_row(session, "demo").id


def log_size(engine) -> int:
    with reading(engine)() as session:
        return session.scalar(select(func.count()).select_from(ReportLog))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_rollup_agrees_with_the_rows_folded_or_not(engine, seed):
    rng = random.Random(seed)
    sessions = session_factory(engine)
    live(sessions, rng)
    half = log_size(engine) // 2
    with sessions.begin() as session:
        assert report_fold.fold(session, limit=half) == half  # part folded, part pending
    live(sessions, rng, count=60, rounds=2)
    ws = workspace_id(engine)
    check_every_query(engine, ws, fold=False)
    assert log_size(engine) > 0
    check_every_query(engine, ws, fold=True)
    assert log_size(engine) == 0


def test_the_summary_takes_the_rollup_above_its_bound_only(engine):
    live(session_factory(engine), random.Random(3), count=80, rounds=1)
    query = SummaryQuery(*RANGES[0], "tag", ZoneInfo("UTC"), "UTC", "calendar")
    ws = workspace_id(engine)
    with reading(engine)() as session:
        exact = reports.summary_in_python(session, ws, query)
        assert reports.summary(session, ws, query, exact_max=1000) == exact
        assert log_size(engine) > 0  # the exact path leaves the log alone
        assert_agree(reports.summary(session, ws, query, exact_max=10), exact)
    assert log_size(engine) == 0


def test_only_changes_a_report_sees_are_logged(engine):
    with session_factory(engine).begin() as session:
        [ticket] = make_tickets(session, random.Random(4), 1)
    before = log_size(engine)
    with session_factory(engine).begin() as session:
        ticket = session.get(Ticket, ticket.id)
        ticket.subject, ticket.message_count = "renamed", 5
    assert log_size(engine) == before == 1
    with session_factory(engine).begin() as session:
        session.get(Ticket, ticket.id).status = "spam"  # counted before, not after: one row
    assert log_size(engine) == 2


def test_the_migration_logs_the_tickets_already_there(database_url):
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url
    engine = make_engine(database_url)
    live(session_factory(engine), random.Random(5), count=50, rounds=1)
    engine.dispose()
    before_rollup = ScriptDirectory.from_config(config).get_revision("0015").down_revision
    command.downgrade(config, before_rollup)  # the log and the blocks go, the tickets stay
    command.upgrade(config, "head")
    engine = make_engine(database_url)
    try:
        with reading(engine)() as session:
            counted = session.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.merged_into_id.is_(None), Ticket.status.not_in(("spam", "deleted"))))
        assert log_size(engine) == counted > 0
        check_every_query(engine, workspace_id(engine), fold=True)
    finally:
        engine.dispose()


def test_a_pass_folds_a_bounded_part_of_the_log(engine, monkeypatch):
    with session_factory(engine).begin() as session:
        make_tickets(session, random.Random(6), 20)
    monkeypatch.setattr(report_fold, "PASS_ROWS", 7)
    assert report_fold.fold_a_pass(session_factory(engine)) == 7
    assert log_size(engine) == 13
    assert report_fold.fold_all(session_factory(engine), limit=5) == 13
    assert log_size(engine) == 0


def test_concurrent_writers_and_folds_keep_the_rollup_exact(engine):
    """Writers changing tickets of the same hours and groups in opposite orders while folds
    run: no writer waits on another over the rollup (no deadlock), and the rollup still gives
    the rows' figures."""
    sessions = session_factory(engine)
    with sessions.begin() as session:
        ids = [t.id for t in make_tickets(session, random.Random(7), 60)]
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(6):
                with sessions.begin() as session:
                    order = ids[::-1] if seed % 2 else ids
                    for ticket in session.scalars(select(Ticket).where(
                            Ticket.id.in_(rng.sample(order, 8)))):
                        ticket.assignee = rng.choice(AGENTS)
                        ticket.tags = rng.sample(TAGS, rng.randrange(3))
                with sessions.begin() as session:
                    report_fold.fold(session, limit=50)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(thread.is_alive() for thread in threads)
    check_every_query(engine, workspace_id(engine), fold=False)
