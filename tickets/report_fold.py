"""Fold the report log (``report_log``: signed ticket snapshots the database triggers write in
each ticket change's own transaction) into the rollup (``report_blocks``).

Writers only ever insert log rows, so concurrent ingest batches share no rollup row to lock
or deadlock on; folding is the one writer of the blocks. One fold runs at a time
(a PostgreSQL advisory lock; SQLite serializes writers), takes log rows in batches, adds each
row's figures (``tickets.report_tally.figures``, signed) to its blocks at every level
(``tickets.report_spans``: ``all`` from quarter hours, the groups from 4 hours), and deletes
exactly the rows it folded, in the same transaction: a row committed meanwhile stays for the
next fold, and a report reads the rows not yet folded beside the blocks
(``tickets.report_rollup``), so a report never depends on when the fold ran. Run by the
summary report before it reads and by each pass of the sweep (``workers.assignment.sweep``),
``PASS_ROWS`` at most each, and by ``python -m tickets.report_fold`` (all of it: after the
migration on a big store).
"""
from __future__ import annotations

import sys

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from config.settings import load_settings
from store.db import lock_keys, make_engine, session_factory
from store.models import ReportBlock, ReportLog
from tickets import report_buckets
from tickets.report_spans import DIM_LEVEL, LEVEL_SHIFT, TOP_LEVEL, quarter_of, span
from tickets.report_tally import COUNTS, figures

FOLD_BATCH = 50_000   # log rows read, folded and deleted at a time
PASS_ROWS = 5_000     # log rows a sweep pass or a report folds at most (about a second)
CHUNK = 2_000         # keys or ids per IN list
FOLD_LOCK = "report_fold"
# The seconds of a ticket -> the block columns of their sum and histogram.
TIME_COLUMNS = (("first_response_s", "first_sum", "first_hist"),
                ("first_response_bs", "first_bsum", "first_bhist"),
                ("resolution_s", "resolution_sum", "resolution_hist"),
                ("resolution_bs", "resolution_bsum", "resolution_bhist"))
BLOCKS, LOG = ReportBlock.__table__, ReportLog.__table__
Key = tuple[int, str, str, int, int]  # workspace, dim, value, level, block


class Delta:
    """What a fold adds to one block."""
    __slots__ = ("counts", "sums", "hists")

    def __init__(self):
        self.counts = [0] * len(COUNTS)
        self.sums = [0.0] * len(TIME_COLUMNS)
        self.hists: list[dict[int, int]] = [{} for _ in TIME_COLUMNS]

    def add(self, counts, seconds, sign: int) -> None:
        for i, count in enumerate(counts):
            self.counts[i] += sign * count
        for i, value in enumerate(seconds):
            if value is not None:
                self.sums[i] += sign * value
                b = report_buckets.bucket(value)
                self.hists[i][b] = self.hists[i].get(b, 0) + sign

    def merge(self, other: "Delta") -> None:
        for i, count in enumerate(other.counts):
            self.counts[i] += count
        for i, (total, hist) in enumerate(zip(other.sums, other.hists)):
            self.sums[i] += total
            mine = self.hists[i]
            for b, count in hist.items():
                mine[b] = mine.get(b, 0) + count


def fold(session: Session, limit: int = FOLD_BATCH) -> int:
    """Fold up to ``limit`` log rows committed so far (the oldest); how many were folded."""
    lock_keys(session, [FOLD_LOCK])
    rows = session.execute(select(LOG).order_by(LOG.c.id).limit(limit)).all()
    if rows:
        apply(session, deltas_of(rows))
        ids = [row.id for row in rows]
        for start in range(0, len(ids), CHUNK):
            session.execute(delete(LOG).where(LOG.c.id.in_(ids[start:start + CHUNK])))
    return len(rows)


def fold_all(sessions, limit: int = FOLD_BATCH, most: int | None = None) -> int:
    """Fold the log, a transaction per ``limit`` rows, at most ``most`` rows (None: all);
    how many rows were folded."""
    folded = 0
    while most is None or folded < most:
        with sessions.begin() as session:
            done = fold(session, limit if most is None else min(limit, most - folded))
        folded += done
        if done < limit:
            break
    return folded


def fold_a_pass(sessions) -> int:
    """What a sweep pass or a report folds: at most ``PASS_ROWS`` rows (the migration's
    backfill of a big store is many passes, or one ``python -m tickets.report_fold``)."""
    return fold_all(sessions, PASS_ROWS, PASS_ROWS)


def dims_of(row) -> list[tuple[str, str]]:
    """The groups a ticket counts in (as ``tickets.reports.group_keys``), ``all`` first."""
    tags = list(dict.fromkeys(row.tags or [])) or [""]
    return [("all", ""), ("channel", row.channel or ""), ("priority", row.priority or ""),
            ("agent", row.assignee or ""), *(("tag", str(tag)) for tag in tags)]


def deltas_of(rows) -> dict[Key, Delta]:
    """Every block the log rows change, at every level."""
    layer: dict[Key, Delta] = {}
    for row in rows:
        counts, seconds = figures(row)
        values = [seconds[name] for name, _s, _h in TIME_COLUMNS]
        quarter = quarter_of(row.created_at)
        for dim, value in dims_of(row):
            level = 0 if dim == "all" else DIM_LEVEL
            key = (row.workspace_id, dim, value, level, quarter >> level)
            layer.setdefault(key, Delta()).add(counts, values, row.sign)
    every = dict(layer)
    while layer:  # each level from the one below: a parent is its two halves
        upper: dict[Key, Delta] = {}
        for (workspace, dim, value, level, block), delta in layer.items():
            if level < TOP_LEVEL:
                upper.setdefault((workspace, dim, value, level + 1, block >> 1),
                                 Delta()).merge(delta)
        every.update(upper)
        layer = upper
    return every


def apply(session: Session, deltas: dict[Key, Delta]) -> None:
    """Add the deltas to their blocks: update those there, insert the others."""
    found = _existing(session, deltas)
    updates, inserts = [], []
    for key, delta in deltas.items():
        row = found.get(key)
        values = _added(row, delta)
        if row is None:
            workspace, dim, value, level, block = key
            inserts.append({"workspace_id": workspace, "dim": dim, "value": value,
                            "span": span(level, block), **values})
        else:
            updates.append({"block_id": row.id, **values})
    if inserts:
        session.execute(insert(BLOCKS), inserts)
    if updates:
        session.execute(update(BLOCKS).where(BLOCKS.c.id == bindparam("block_id")), updates)


def _existing(session: Session, deltas) -> dict[Key, object]:
    wanted: dict[tuple[int, str], set[int]] = {}
    for workspace, dim, _value, level, block in deltas:
        wanted.setdefault((workspace, dim), set()).add(span(level, block))
    found = {}
    for (workspace, dim), spans in wanted.items():
        spans = sorted(spans)
        for start in range(0, len(spans), CHUNK):
            for row in session.execute(select(BLOCKS).where(
                    BLOCKS.c.workspace_id == workspace, BLOCKS.c.dim == dim,
                    BLOCKS.c.span.in_(spans[start:start + CHUNK]))):
                level, block = row.span >> LEVEL_SHIFT, row.span & ((1 << LEVEL_SHIFT) - 1)
                found[(workspace, dim, row.value, level, block)] = row
    return found


def _added(row, delta: Delta) -> dict:
    values = {name: (getattr(row, name) if row is not None else 0) + delta.counts[i]
              for i, name in enumerate(COUNTS)}
    for i, (_seconds, sum_column, hist_column) in enumerate(TIME_COLUMNS):
        values[sum_column] = (getattr(row, sum_column) if row is not None else 0.0) \
            + delta.sums[i]
        hist = report_buckets.decode(getattr(row, hist_column) if row is not None else b"")
        for b, count in delta.hists[i].items():
            hist[b] = hist.get(b, 0) + count
        values[hist_column] = report_buckets.encode(hist)
    return values


def main() -> None:
    """``python -m tickets.report_fold [DATABASE_URL]``: fold the log once."""
    url = sys.argv[1] if len(sys.argv) > 1 else load_settings().database_url
    print(f"{fold_all(session_factory(make_engine(url)))} log rows folded")


if __name__ == "__main__":
    main()
