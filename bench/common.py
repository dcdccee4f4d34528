"""Shared helpers of the benchmarks: percentiles, ports, and what /proc says of processes (CPU
time, peak memory, a process tree) and of the machine (busy CPU)."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process, in MiB; NaN once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process so far (fields 14 and 15 of /proc/<pid>/stat);
    None once it is gone. Unlike wall time, the machine's other load does not inflate it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(root: int) -> float:
    """CPU time so far of ``root`` and every live process below it."""
    return sum(cpu_seconds(pid) or 0.0 for pid in process_tree(root))


def process_tree(root: int) -> dict[int, int]:
    """``root`` and every live process below it -> its parent (``root``'s: 0)."""
    found, todo = {}, [(root, 0)]
    while todo:
        pid, parent = todo.pop()
        found[pid] = parent
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                todo.extend((int(child), pid) for child in children.read_text().split())
            except OSError:
                pass
    return found


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle, sum(values[:8])


def machine_cpu_seconds() -> float:
    """CPU time the whole machine spent busy (all processes, all cores) since boot."""
    return machine_jiffies()[0] / CLOCK_TICKS


def bench_env(**extra) -> dict:
    return {**os.environ, "PYTHONPATH": str(PROJECT_DIR), **extra}
