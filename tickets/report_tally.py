"""What one ticket adds to a report's row, and a row's running total from rollup blocks, ticket
rows and log rows (``tickets.report_rollup``).

:func:`figures` is the per-ticket definition the module docstring of ``tickets.reports``
states (a ticket row, or a ``report_log`` row: same column names). A :class:`Tally` counts
exactly and keeps the seconds of one hours mode as exact sums and bucket histograms
(``tickets.report_buckets``), so its percentiles are estimates within the buckets' precision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from routing.calendar import as_utc
from tickets import report_buckets

RESOLVED = ("resolved", "closed")
LEFT_OUT = ("spam", "deleted")  # with merged tickets: not in any report
ACTIVE_NOT = ("resolved", "closed", "spam", "deleted")  # store.models.FINISHED
COUNTS = ("created", "resolved", "reopened", "backlog", "met", "breached")
SECONDS = {"calendar": ("first_response_s", "resolution_s"),
           "business": ("first_response_bs", "resolution_bs")}
PERCENTILES = (0.5, 0.9)


def figures(row) -> tuple[tuple[int, ...], dict[str, float | None]]:
    """The ticket's counts (in ``COUNTS`` order) and its seconds by column name (None: not
    counted: no reply yet, or not resolved now)."""
    resolved = row.status in RESOLVED
    breached = row.sla_breached
    counts = (1, int(resolved), int((row.reopen_count or 0) > 0),
              int(row.status not in ACTIVE_NOT), int(resolved and breached is False),
              int(breached is True))
    seconds = {"first_response_s": row.first_response_s,
               "first_response_bs": row.first_response_bs,
               "resolution_s": row.resolution_s if resolved else None,
               "resolution_bs": row.resolution_bs if resolved else None}
    return counts, seconds


def group_keys(row, query) -> list[str]:
    """The groups of ``query.group_by`` a ticket row (or log row) counts in."""
    by = query.group_by
    if by in ("day", "week"):
        local = as_utc(row.created_at).astimezone(query.tz).date()
        if by == "week":
            local -= timedelta(days=local.weekday())  # ISO weeks start on Monday
        return [local.isoformat()]
    if by == "tag":
        return list(dict.fromkeys(row.tags or [])) or [""]
    return [{"channel": row.channel, "priority": row.priority,
             "agent": row.assignee}[by] or ""]


def stats(count, p50, p90, mean) -> dict:
    """A row's ``first_response`` or ``resolution`` object, seconds to the millisecond."""
    return {"count": count, "p50_s": _seconds(p50), "p90_s": _seconds(p90),
            "mean_s": _seconds(mean)}


def _seconds(value) -> float | None:
    return None if value is None else round(float(value), 3)


def block_columns(hours: str) -> tuple[str, ...]:
    """The ``report_blocks`` columns a report in ``hours`` reads."""
    b = "b" if hours == "business" else ""
    return (*COUNTS, f"first_{b}sum", f"resolution_{b}sum", f"first_{b}hist",
            f"resolution_{b}hist")


@dataclass
class Tally:
    """One row's running total: counts, and for first response and resolution the sum of the
    seconds, a histogram array of the values added one by one and the histogram bytes of the
    blocks, added at the end (:func:`as_rows`)."""
    counts: list[int] = field(default_factory=lambda: [0] * len(COUNTS))
    sums: list[float] = field(default_factory=lambda: [0.0, 0.0])
    histograms: list[np.ndarray] = field(
        default_factory=lambda: [report_buckets.empty(), report_buckets.empty()])
    blobs: tuple[list[bytes], list[bytes]] = field(default_factory=lambda: ([], []))

    def add_ticket(self, row, hours: str, sign: int = 1) -> None:
        """A ticket row (or a log row, with its sign)."""
        counts, seconds = figures(row)
        for i, count in enumerate(counts):
            self.counts[i] += sign * count
        for i, column in enumerate(SECONDS[hours]):
            if seconds[column] is not None:
                self.sums[i] += sign * seconds[column]
                self.histograms[i][report_buckets.bucket(seconds[column])] += sign

    def add_block(self, values) -> None:
        """A block's values in ``block_columns`` order."""
        for i in range(len(COUNTS)):
            self.counts[i] += values[i]
        first_sum, resolution_sum, first_hist, resolution_hist = values[len(COUNTS):]
        self.sums[0] += first_sum
        self.sums[1] += resolution_sum
        for blobs, blob in zip(self.blobs, (first_hist, resolution_hist)):
            if blob:
                blobs.append(blob)


def as_rows(tallies: dict[str, Tally]) -> list[dict]:
    """The report's rows, one per group with tickets, ordered by group; the histograms of
    every group added and read at once (numpy)."""
    groups = [group for group in sorted(tallies) if tallies[group].counts[0] > 0]
    first, resolution = (_times(tallies, groups, i) for i in (0, 1))
    rows = []
    for n, group in enumerate(groups):
        created, resolved, reopened, backlog, met, breached = tallies[group].counts
        rows.append({"group": group, "created": created, "resolved": resolved,
                     "reopened": reopened, "backlog": backlog, "first_response": first[n],
                     "resolution": resolution[n], "sla": {"met": met, "breached": breached}})
    return rows


def _times(tallies: dict[str, Tally], groups: list[str], i: int) -> list[dict]:
    if not groups:
        return []
    histograms = np.stack([tallies[group].histograms[i] for group in groups])
    blobs, owners = [], []
    for n, group in enumerate(groups):
        blobs += tallies[group].blobs[i]
        owners += [n] * len(tallies[group].blobs[i])
    if blobs:
        histograms += report_buckets.summed(blobs, owners, len(groups))
    counts = histograms.sum(axis=1).tolist()
    found = report_buckets.percentiles(histograms, PERCENTILES)
    return [stats(count, *values, tallies[group].sums[i] / count) if count > 0
            else stats(0, None, None, None)
            for group, count, values in zip(groups, counts, found)]
