"""The per-phase log line of an ingest job (workers/ingest/phases.py) and its sum in
``bench.launcher_log``."""
from __future__ import annotations

import logging

from bench.launcher_log import job_phases
from tests.workers.test_isolation import mail, queued
from workers.ingest import phases
from workers.ingest.job import ingest_with


def test_a_job_logs_its_phases_and_the_bench_sums_them(runtime, caplog):
    envelopes = queued(runtime, [mail(n) for n in range(1, 4)])
    with caplog.at_level(logging.INFO, logger=phases.__name__):
        with phases.record(lambda: len(envelopes)):
            ingest_with(runtime, envelopes)
        with phases.record(lambda: 0):
            pass
    lines = [r.getMessage() for r in caplog.records if r.name == phases.__name__]
    assert len(lines) == 2 and lines[0].startswith("job phases (3 item(s)): ")
    summed = job_phases("\n".join(lines).encode())
    for name in ("parse", "lock wait", "steps", "rules", "commit", "store", "blobs", "route",
                 "job", "between"):
        assert name in summed, name
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in summed.values())
    assert summed["job"][0] >= summed["store"][0]  # a phase inside the job's time


def test_phases_outside_a_job_record_nothing():
    with phases.phase("parse"):
        pass
    phases.add("blobs", 1.0, 1.0)  # no record open: nothing to add to, nothing raised
