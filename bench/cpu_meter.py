"""CPU of named groups of processes over a benchmark round, read from /proc in the background
(``bench.multihost``): a process that ends between two readings still counts with its last
value, and the whole machine's busy time is read beside them (the rest is other load)."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from bench.common import cpu_seconds, machine_jiffies

SAMPLE_INTERVAL_S = 0.5       # how often CPU counters are read from /proc


@dataclass
class Snapshot:
    at: float
    machine: tuple[int, int]
    seen: dict[str, dict[int, float]]


class CpuMeter:
    """Reads the CPU of named groups of processes every SAMPLE_INTERVAL_S, keeping the last
    value seen of every pid, so a process that ends between two snapshots still counts."""

    def __init__(self, groups: dict):
        self.groups = groups
        self.seen: dict[str, dict[int, float]] = {name: {} for name in groups}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(SAMPLE_INTERVAL_S):
            self.sample()

    def sample(self) -> None:
        for name, pids in self.groups.items():
            for pid in pids():
                value = cpu_seconds(pid)
                if value is not None:
                    with self.lock:
                        self.seen[name][pid] = value

    def snapshot(self) -> Snapshot:
        self.sample()
        with self.lock:
            seen = {name: dict(values) for name, values in self.seen.items()}
        return Snapshot(time.perf_counter(), machine_jiffies(), seen)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stopped.set()
        self.thread.join()


def cores_busy(first: Snapshot, last: Snapshot) -> dict[str, float]:
    """Average cores each group kept busy between two snapshots; 'machine': all of them."""
    wall = last.at - first.at
    busy = {name: sum(v - first.seen[name].get(pid, 0.0) for pid, v in values.items()) / wall
            for name, values in last.seen.items()}
    (busy0, total0), (busy1, total1) = first.machine, last.machine
    busy["machine"] = (busy1 - busy0) / max(1, total1 - total0) * os.cpu_count()
    return busy
