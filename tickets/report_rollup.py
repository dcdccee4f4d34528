"""The summary report from the rollup (``report_blocks``), for ranges holding many tickets.

The range is cut into whole blocks and edges (``tickets.report_spans``): ``group_by=day|week``
reads the ``all`` blocks of each local day or week, the other groups their own blocks of the
whole range (one row per group and block). Edges are read from the ticket rows themselves,
and the log rows not yet folded that fall in the blocks are added with their sign; all three
in one snapshot (PostgreSQL: a REPEATABLE READ transaction of its own; SQLite's read
transactions are snapshots), so the counts are exactly those of the ticket rows. Before
reading, the pending log is folded (``tickets.report_fold``, a pass of at most
``PASS_ROWS`` rows) in a transaction of its own; what a fold leaves (the rest of a big
backlog, the database busy) is read as it is.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from routing.calendar import as_utc
from store.db import session_factory
from store.models import ReportBlock, ReportLog, Ticket
from tickets import report_fold
from tickets.report_spans import DIM_LEVEL, Edge, cover, periods
from tickets.report_tally import LEFT_OUT, Tally, as_rows, block_columns, group_keys

log = logging.getLogger(__name__)
CHUNK = 5_000  # spans per IN list
BLOCKS, LOG = ReportBlock.__table__, ReportLog.__table__
TICKET_COLUMNS = ("created_at", "channel", "priority", "assignee", "tags", "status",
                  "reopen_count", "sla_breached", "first_response_s", "first_response_bs",
                  "resolution_s", "resolution_bs")


def summary(engine, workspace_id: int, query, fold: bool | None = None) -> list[dict]:
    """The report's rows (``tickets.reports.summary``'s shape), from the rollup, of the
    committed tickets. ``fold``: fold the log first; by default unless ``engine`` is a SQLite
    writer's, whose caller may hold the write lock the fold would wait for."""
    if fold is None:
        fold = engine.dialect.name != "sqlite" or bool(
            engine.get_execution_options().get("readonly"))
    if fold:
        fold_pending(engine)
    with snapshot(engine) as session:
        tallies: dict[str, Tally] = defaultdict(Tally)
        edges = _add_blocks(session, workspace_id, query, tallies)
        _add_tickets(session, workspace_id, query, edges, tallies)
        _add_log(session, workspace_id, query, edges, tallies)
    return as_rows(tallies)


def fold_pending(engine) -> None:
    try:
        with snapshot(engine) as session:
            if session.scalar(select(LOG.c.id).limit(1)) is None:
                return
        report_fold.fold_a_pass(session_factory(engine.execution_options(readonly=False)))
    except SQLAlchemyError as error:  # the report reads the log rows instead
        log.warning("report log not folded: %s", error)


def snapshot(engine) -> Session:
    options = {"readonly": True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    return Session(engine.execution_options(**options))


def _add_blocks(session: Session, workspace_id: int, query, tallies) -> list[Edge]:
    """Add the blocks' figures; the edges they leave."""
    columns = [BLOCKS.c[name] for name in block_columns(query.hours)]
    if query.group_by in ("day", "week"):
        dim, labels, edges = "all", {}, []
        for label, start, end in periods(query.start, query.end, query.group_by, query.tz):
            spans, left = cover(start, end, 0)
            labels.update(dict.fromkeys(spans, label))
            edges += left
    else:
        dim, (spans, edges) = query.group_by, cover(query.start, query.end, DIM_LEVEL)
        labels = dict.fromkeys(spans)
    wanted = sorted(labels)
    read = _postgres_blocks if session.get_bind().dialect.name == "postgresql" else _blocks
    for start in range(0, len(wanted), CHUNK):
        for span, value, *values in read(session, workspace_id, dim,
                                         wanted[start:start + CHUNK], columns):
            tallies[labels[span] or value].add_block(values)
    return edges


def _blocks(session: Session, workspace_id: int, dim: str, spans: list[int], columns):
    return session.execute(select(BLOCKS.c.span, BLOCKS.c.value, *columns).where(
        BLOCKS.c.workspace_id == workspace_id, BLOCKS.c.dim == dim, BLOCKS.c.span.in_(spans)))


def _postgres_blocks(session: Session, workspace_id: int, dim: str, spans: list[int],
                     columns):
    """The same rows through the driver's binary protocol, the spans as one array: a
    year's local days are some 2 MB of histogram bytes, which the text protocol sends as
    hexadecimal, and thousands of parameters cost more to bind than the query takes."""
    cursor = session.connection().connection.dbapi_connection.cursor(binary=True)
    names = ", ".join(column.name for column in columns)
    cursor.execute(f"SELECT span, value, {names} FROM report_blocks "
                   "WHERE workspace_id = %s AND dim = %s AND span = ANY(%s)",
                   (workspace_id, dim, spans))
    return cursor.fetchall()


def _add_tickets(session: Session, workspace_id: int, query, edges: list[Edge],
                 tallies) -> None:
    """The ticket rows of the edges, as they are now."""
    if not edges:
        return
    statement = select(*(Ticket.__table__.c[name] for name in TICKET_COLUMNS)).where(
        Ticket.workspace_id == workspace_id, Ticket.merged_into_id.is_(None),
        Ticket.status.not_in(LEFT_OUT),
        or_(*(and_(Ticket.created_at >= start, Ticket.created_at < end)
              for start, end in edges)))
    for row in session.execute(statement):
        for group in group_keys(row, query):
            tallies[group].add_ticket(row, query.hours)


def _add_log(session: Session, workspace_id: int, query, edges: list[Edge], tallies) -> None:
    """The log rows not yet folded into the blocks read (those of the edges are in the
    ticket rows already)."""
    statement = select(LOG.c.sign, *(LOG.c[name] for name in TICKET_COLUMNS)).where(
        LOG.c.workspace_id == workspace_id, LOG.c.created_at >= query.start,
        LOG.c.created_at < query.end)
    for row in session.execute(statement):
        if not _within(as_utc(row.created_at), edges):
            for group in group_keys(row, query):
                tallies[group].add_ticket(row, query.hours, row.sign)


def _within(moment: datetime, edges: list[Edge]) -> bool:
    return any(as_utc(start) <= moment < as_utc(end) for start, end in edges)
