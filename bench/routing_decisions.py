"""Decision latency and throughput of the routing engine (storage excluded).

10,000 agents, 50 skills (5 languages + 45 product skills), 4 channels (chat, telegram, email,
form; direct assignment), and a backlog of 100,000 waiting tickets. 2,000 of the agents form the
``vip`` department; the backlog is vip work (department + language + product skill), so it can
only drain through them. The measured loop mixes, per round: a vip agent finishes a ticket (the
freed capacity takes the best waiting ticket out of the 100k backlog), a general ticket arrives
(scored among hundreds of eligible agents), a general agent finishes a ticket, and a new vip
ticket arrives (nobody eligible: it joins the backlog with a full near-miss explanation).

    .venv/bin/python -m bench.routing_decisions [--agents 10000 --pending 100000 --rounds 5000]
"""
from __future__ import annotations

import argparse
import random
import time

from bench.common import percentile
from routing.engine import Router
from routing.model import Agent, Policy, Request

LANGS = [f"lang:{code}" for code in ("en", "cs", "de", "fr", "es")]
PRODUCTS = [f"p{n:02d}" for n in range(45)]
CHANNELS = ("chat", "telegram", "email", "form")
PRIORITY_MIX = ("low", "medium", "medium", "high", "urgent")  # drawn from: medium twice as often


def make_agent(rng: random.Random, n: int, vip: bool) -> Agent:
    skills = {lang: rng.randint(3, 5) for lang in rng.sample(LANGS, rng.choice((1, 2)))}
    skills.update({p: rng.randint(1, 5) for p in rng.sample(PRODUCTS, rng.randint(4, 6))})
    return Agent(f"a{n:05d}", skills, {"chat": 2, "telegram": 2, "email": 6, "form": 4}, 12,
                 "online", departments=frozenset({"vip"}) if vip else frozenset())


def make_request(rng: random.Random, n: int, now: float, vip: bool) -> Request:
    required = {rng.choice(LANGS): 3, rng.choice(PRODUCTS): rng.randint(1, 3)}
    if vip:
        required["dept:vip"] = 1
    preferred = {p: rng.choice((0.5, 1.0, 2.0)) for p in rng.sample(PRODUCTS, rng.randint(0, 2))}
    return Request(f"t{n}", rng.choice(CHANNELS), required, preferred, rng.choice(PRIORITY_MIX),
                   created=now, sla_due=now + rng.choice((3600, 14400, 86400)))


class Workload:
    """The router plus bookkeeping of who holds what, to release tickets at random."""

    def __init__(self, agents: int, pending: int, seed: int):
        self.rng = random.Random(seed)
        vips = agents // 5
        self.router = Router(Policy(offer_channels=frozenset()),
                             [make_agent(self.rng, n, n < vips) for n in range(agents)])
        self.vip_ids = [f"a{n:05d}" for n in range(vips)]
        self.general_ids = [f"a{n:05d}" for n in range(vips, agents)]
        self.next_id = 0
        self.now = 0.0
        self.fill(pending)

    def new(self, vip: bool) -> Request:
        self.next_id += 1
        return make_request(self.rng, self.next_id, self.now, vip)

    def fill(self, pending: int) -> None:
        router = self.router
        while len(router.pending) < pending:
            self.now += 0.01
            router.route(self.new(True), self.now)

    def release_one(self, pool: list[str]) -> list:
        for _ in range(50):
            agent_id = self.rng.choice(pool)
            held = self.router.holding[agent_id]
            if held:
                return self.router.release(agent_id, min(held), self.now)
        return []


def run(agents: int, pending: int, rounds: int, seed: int) -> dict:
    started = time.perf_counter()
    work = Workload(agents, pending, seed)
    setup_s = time.perf_counter() - started
    router = work.router
    latencies: dict[str, list[float]] = {"release_vip": [], "route_general": [],
                                         "release_general": [], "route_vip": []}
    cpu: list[float] = []
    decisions = 0
    busy = 0.0
    for _ in range(rounds):
        work.now += 0.05
        steps = (("release_vip", lambda: work.release_one(work.vip_ids)),
                 ("route_general", lambda: [router.route(work.new(False), work.now)]),
                 ("release_general", lambda: work.release_one(work.general_ids)),
                 ("route_vip", lambda: [router.route(work.new(True), work.now)]))
        for name, call in steps:
            c0 = time.thread_time()
            t0 = time.perf_counter()
            out = call()
            elapsed = time.perf_counter() - t0
            cpu.append((time.thread_time() - c0) * 1000)
            busy += elapsed
            decisions += len(out)
            latencies[name].append(elapsed * 1000)
    every = [v for values in latencies.values() for v in values]
    return {"setup_s": setup_s, "pending": len(router.pending), "decisions": decisions,
            "decisions_per_s": decisions / busy,
            "p50_ms": percentile(every, 50), "p99_ms": percentile(every, 99),
            "max_ms": max(every), "cpu_p50_ms": percentile(cpu, 50),
            "cpu_p99_ms": percentile(cpu, 99),
            "per_call": {name: (percentile(v, 50), percentile(v, 99))
                         for name, v in latencies.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.agents, args.pending, args.rounds, args.seed)
    print(f"agents={args.agents} pending={result['pending']} skills=50 channels=4 "
          f"rounds={args.rounds} (setup {result['setup_s']:.1f} s)")
    print(f"decisions={result['decisions']} decisions/s={result['decisions_per_s']:.0f} "
          f"p50={result['p50_ms']:.3f} ms p99={result['p99_ms']:.3f} ms "
          f"max={result['max_ms']:.2f} ms (wall, per call, every call counted)")
    print(f"cpu time per call (excludes preemption by other processes): "
          f"p50={result['cpu_p50_ms']:.3f} ms p99={result['cpu_p99_ms']:.3f} ms")
    for name, (p50, p99) in result["per_call"].items():
        print(f"  {name:16s} p50={p50:.3f} ms p99={p99:.3f} ms")


if __name__ == "__main__":
    main()
