"""What one round of ``bench.multihost`` measured and how it is reported: the rate, the
exactly-once check, the cores each tier kept busy, the CPU each message cost per tier, and
where the rate flattens as hosts are added."""
from __future__ import annotations

import os
from dataclasses import dataclass

FLAT_GAIN = 0.5               # a step of N that gains less than half the ideal speed-up: flat
SATURATED = 0.85              # a resource busier than this share of its capacity is the limit


@dataclass
class Round:
    hosts: int
    workers: int
    messages: int
    jobs: int
    seconds: float
    middle_rate: float
    cores: dict[str, float]
    check: dict[str, int]
    redis_commands: int
    pg_commits: int
    backend_states: dict[str, float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


TIERS = (("workers", "workers"), ("postgres", "PostgreSQL"), ("redis", "Redis"),
         ("forwarder", "forwarder"), ("bench", "this script"))


def print_round(r: Round) -> None:
    c = r.check
    ours = sum(r.cores[name] for name, _ in TIERS)
    print(f"N={r.hosts} hosts x {r.workers // r.hosts} worker: {r.messages} messages in "
          f"{r.jobs} jobs, stored in {r.seconds:.1f} s: {r.rate:.0f} msg/s "
          f"(middle 80 %: {r.middle_rate:.0f} msg/s)")
    print(f"  exactly once: {c['distinct']} of {r.messages} Message-IDs in {c['stored']} rows, "
          f"{c['missing']} missing, {c['unexpected']} unexpected, {c['quarantined']} "
          f"quarantined, {c['failed_jobs']} failed jobs; replies in their parent's ticket: "
          f"{c['replies_threaded']} of {c['replies']}")
    print("  cores busy: " + ", ".join(f"{label} {r.cores[name]:.2f}" for name, label in TIERS)
          + f", other load {max(0.0, r.cores['machine'] - ours):.2f}; "
          f"machine {r.cores['machine']:.2f} of {os.cpu_count()}")
    print("  per message: CPU " + ", ".join(
        f"{label} {cpu_ms(r, name):.2f} ms" for name, label in TIERS[:4])
        + f"; {r.redis_commands / r.messages:.1f} Redis commands, "
        f"{r.pg_commits / r.messages:.2f} PostgreSQL transactions")
    print("  the workers' PostgreSQL sessions, sampled: " + ", ".join(
        f"{state} {share:.0%}" for state, share in r.backend_states.items()), flush=True)


def cpu_ms(r: Round, name: str) -> float:
    return r.cores[name] * r.seconds / r.messages * 1000


def exactly_once(r: Round) -> bool:
    c = r.check
    return (c["stored"] == c["distinct"] == r.messages and not c["missing"]
            and not c["unexpected"] and not c["quarantined"] and not c["failed_jobs"])


def limit_of(r: Round) -> str:
    """The busiest resource against its capacity: the machine's cores, Redis's one thread,
    each worker process's one thread."""
    cores = os.cpu_count()
    shares = {"the machine's CPU": r.cores["machine"] / cores,
              "Redis (one thread)": r.cores["redis"],
              "the worker processes (one thread each)": r.cores["workers"] / r.workers,
              "PostgreSQL's CPU": r.cores["postgres"] / cores}
    name, share = max(shares.items(), key=lambda kv: kv[1])
    if share < SATURATED:
        return f"no CPU saturated (busiest: {name} at {share:.0%}): waiting, not computing"
    ours = sum(r.cores[tier] for tier, _ in TIERS)
    return (f"{name}, {share:.0%} busy ({ours:.2f} of its {cores} cores were this bench's, "
            f"the rest other load)" if name == "the machine's CPU" else f"{name}, {share:.0%} busy")


def print_summary(rounds: list[Round]) -> None:
    base = rounds[0]
    print("\nhosts | worker processes | msg/s | msg/s per worker | speed-up | exactly once | "
          "CPU per message (workers + PostgreSQL + Redis) | machine busy (ours)")
    for r in rounds:
        ours = sum(r.cores[name] for name, _ in TIERS)
        print(f"{r.hosts} | {r.workers} | {r.rate:.0f} | {r.rate / r.workers:.0f} | "
              f"{r.rate / base.rate:.2f}x | {'yes' if exactly_once(r) else 'NO'} | "
              f"{sum(cpu_ms(r, name) for name, _ in TIERS[:3]):.1f} ms | "
              f"{r.cores['machine']:.2f} of {os.cpu_count()} ({ours:.2f})")
    print(flattening(rounds))
    last = rounds[-1]
    print("Capacity per core, from the CPU each message cost at N=" f"{last.hosts}: "
          + ", ".join(f"{label} {1000 / cpu_ms(last, name):.0f} msg/s"
                      for name, label in TIERS[:3] if cpu_ms(last, name) > 0))


def flattening(rounds: list[Round]) -> str:
    for before, after in zip(rounds, rounds[1:]):
        ideal = after.workers / before.workers
        if after.rate / before.rate < 1 + FLAT_GAIN * (ideal - 1):
            return (f"Flattens from N={before.hosts} to N={after.hosts} "
                    f"({after.rate / before.rate:.2f}x for {ideal:.0f}x the workers): "
                    f"limit {limit_of(after)}")
    return f"No flattening up to N={rounds[-1].hosts}: limit so far {limit_of(rounds[-1])}"
