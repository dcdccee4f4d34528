"""What the email workers wrote in the launcher's log, summed over a run (``bench.make_run``):
their store transactions' lock times and their jobs' time per phase."""
from __future__ import annotations

import re

# an email worker's line per stored batch (workers.ingest.batch.log_lock_time)
LOCK_LINE = re.compile(rb"stored (\d+) item\(s\): waited ([\d.]+) ms for the locks, held them "
                       rb"([\d.]+) ms \(([\d.]+) ms of it committing\)")

# an email worker's line per job (workers.ingest.phases): each phase's wall/CPU milliseconds
PHASE_LINE = re.compile(rb"job phases \((\d+) item\(s\)\): (.*?) ms wall/cpu")
PHASE = re.compile(r"([a-z ]+) ([\d.]+)/([\d.]+)")


def lock_times(log: bytes) -> dict:
    """The email workers' batches from the launcher's log: how many, their items, and the
    seconds they waited for and held the store's locks (SQLite: the single writer's lock;
    PostgreSQL: the conversations' advisory locks and the rows written), committing included."""
    batches = items = 0
    waited = held = committing = 0.0
    for match in LOCK_LINE.finditer(log):
        batches += 1
        items += int(match[1])
        waited += float(match[2]) / 1000
        held += float(match[3]) / 1000
        committing += float(match[4]) / 1000
    return {"batches": batches, "items": items, "waited": waited, "held": held,
            "committing": committing}


def job_phases(log: bytes) -> dict[str, list[float]]:
    """The email workers' jobs from the launcher's log: phase -> [wall, CPU] seconds summed
    over every job (``between``: from a worker's previous job to the next, RQ's own work and
    waiting for jobs)."""
    sums: dict[str, list[float]] = {}
    for match in PHASE_LINE.finditer(log):
        for name, wall, cpu in PHASE.findall(match[2].decode()):
            total = sums.setdefault(name.strip(), [0.0, 0.0])
            total[0] += float(wall) / 1000
            total[1] += float(cpu) / 1000
    return sums
