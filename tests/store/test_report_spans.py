"""The rollup's pure parts: a range of quarters is exactly its dyadic blocks, local days in
any zone are whole quarters (or edges), and bucket percentiles stay within 2 % (or 1 s)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from tickets import report_buckets
from tickets.report_spans import (DIM_LEVEL, LEVEL_SHIFT, QUARTER, cover, dyadic, moment_of,
                                  periods, quarter_of)
from tickets.reports import percentile

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def quarters(spans: list[int]) -> list[int]:
    found = []
    for span in spans:
        level, block = span >> LEVEL_SHIFT, span & ((1 << LEVEL_SHIFT) - 1)
        found += range(block << level, (block + 1) << level)
    return found


def test_a_range_of_quarters_is_exactly_its_blocks_and_few_of_them():
    rng = random.Random(1)
    for _ in range(300):
        low = rng.randrange(2_000_000)
        high = low + rng.randrange(40_000)
        spans = dyadic(low, high, 0)
        assert quarters(spans) == list(range(low, high))
        assert len(spans) <= 2 * 17


def test_cover_leaves_edges_off_the_blocks():
    start = START + timedelta(minutes=7, seconds=3)
    end = START + timedelta(days=3, hours=5, minutes=1)
    spans, edges = cover(start, end, DIM_LEVEL)
    covered = quarters(spans)
    assert moment_of(covered[0]) == edges[0][1] and edges[0][0] == start
    assert moment_of(covered[-1]) + QUARTER == edges[1][0] and edges[1][1] == end
    assert covered == list(range(covered[0], covered[-1] + 1))


def test_local_days_are_whole_quarters_in_half_and_quarter_hour_zones():
    for zone in ("Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns"):
        days = periods(START, START + timedelta(days=60), "day", ZoneInfo(zone))
        for label, begins, ends in days[1:-1]:
            assert cover(begins, ends, 0)[1] == []
            assert begins.astimezone(ZoneInfo(zone)).date().isoformat() == label
            assert (ends - timedelta(microseconds=1)).astimezone(
                ZoneInfo(zone)).date().isoformat() == label


def test_weeks_start_on_local_mondays():
    weeks = periods(START, START + timedelta(days=30), "week", ZoneInfo("Asia/Tokyo"))
    assert [label for label, _b, _e in weeks] == ["2026-02-23", "2026-03-02", "2026-03-09",
                                                  "2026-03-16", "2026-03-23", "2026-03-30"]
    assert weeks[1][1] == datetime(2026, 3, 1, 15, tzinfo=timezone.utc)


def test_quarters_count_from_the_epoch():
    assert quarter_of(datetime(1970, 1, 1, 0, 14, 59, tzinfo=timezone.utc)) == 0
    assert quarter_of(datetime(1970, 1, 1, 0, 15, tzinfo=timezone.utc)) == 1


def test_bucket_percentiles_are_within_two_percent_or_a_second():
    rng = random.Random(2)
    for size in (1, 2, 3, 10, 101, 5000):
        values = sorted(rng.choice((rng.uniform(0, 2), rng.lognormvariate(8, 2)))
                        for _ in range(size))
        histogram = report_buckets.empty()
        for value in values:
            histogram[report_buckets.bucket(value)] += 1
        for fraction in (0.0, 0.5, 0.9, 1.0):
            exact = percentile(values, fraction)
            assert abs(report_buckets.percentile(histogram, fraction) - exact) <= max(
                0.02 * exact, 1.0)


def test_histograms_travel_as_bytes():
    counts = {0: 3, 7: 1, 1023: 2}
    assert report_buckets.decode(report_buckets.encode(counts)) == counts
    blob = report_buckets.encode(counts)
    histograms = report_buckets.summed([blob, blob, blob], [0, 1, 1], 2)
    assert histograms[1][7] == 2 and int(np.sum(histograms)) == 18
    assert report_buckets.percentile(report_buckets.empty(), 0.5) is None
    assert report_buckets.percentiles(histograms, (0.0, 1.0))[1] == [
        report_buckets.percentile(histograms[1], f) for f in (0.0, 1.0)]
