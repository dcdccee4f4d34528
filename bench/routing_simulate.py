"""Simulator speed and fairness: 100,000 tickets over a generated day through the real router.

Equal-capacity agents (same skills, same capacity: chat 2, telegram 2, email 6, form 4, total
10 units) in three shifts that follow the arrival curve (a night crew all day, a morning and an
afternoon shift); four rules over email, chat (offer and accept), telegram (offer and accept) and
form; handle times exponential around 5-15 minutes per channel. Prints the wall time of the
simulation (day generation excluded) and Jain's index of assignments per capacity-hour for every
hour of the day. ``policy.load_bands`` 2 (default here): load ratios below and above one half
tie, so idle time decides among lightly loaded agents; 0 ranks by the exact ratio.

    .venv/bin/python -m bench.routing_simulate [--tickets 100000 --agents 400 --seed 1]
"""
from __future__ import annotations

import argparse
import time

from simulation.config_input import parse
from simulation.day import generate
from simulation.simulate import simulate

SKILLS = {"lang:en": 4, "billing": 3, "tech": 3, "sales": 3}
SHIFTS = ((0, 24), (6, 15), (6, 15), (6, 15), (11, 20), (11, 20), (11, 20))


def config(agents: int, tickets: int, seed: int, bands: int = 2) -> dict:
    return {
        "policy": {"load_bands": bands},
        "agents": [{"id": f"a{n:04d}", "skills": SKILLS, "departments": ["general"],
                    "capacity": {"chat": 2, "telegram": 2, "email": 6, "form": 4}, "total": 10,
                    "shift": list(SHIFTS[n % len(SHIFTS)])} for n in range(agents)],
        "ladders": {"standard": [{"action": "drop_preferred", "after_s": 60},
                                 {"action": "lower_levels", "after_s": 300},
                                 {"action": "escalate", "after_s": 1800}]},
        "rules": [
            {"name": "billing", "channels": ["email", "form", "chat"],
             "required": {"lang:en": 3, "billing": 2}, "preferred": {"tech": 1},
             "priority": "high", "ladder": "standard", "share": 2},
            {"name": "tech", "channels": ["email", "chat", "telegram"],
             "required": {"lang:en": 3, "tech": 3}, "ladder": "standard", "share": 3},
            {"name": "sales", "channels": ["email", "chat", "form"],
             "required": {"lang:en": 2, "sales": 2}, "priority": "low", "share": 1},
            {"name": "urgent", "channels": ["email", "chat", "telegram"],
             "required": {"lang:en": 3}, "priority": "urgent", "share": 0.3},
        ],
        "simulation": {"tickets": tickets, "seed": seed},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--load-bands", type=int, default=2,
                        help="policy.load_bands (0: exact load ratio)")
    args = parser.parse_args()
    routing = parse(config(args.agents, args.tickets, args.seed, args.load_bands))
    started = time.perf_counter()
    day = generate(routing)
    generated_s = time.perf_counter() - started
    started = time.perf_counter()
    cpu = time.process_time()
    result = simulate(routing, day, args.seed)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    print(f"tickets={result['tickets']} agents={args.agents} load_bands={args.load_bands} simulated in {wall:.1f} s wall "
          f"({cpu:.1f} s cpu; day generated in {generated_s:.1f} s)")
    print(f"decisions={result['decisions']} unassigned={result['unassigned']} "
          f"occupancy={result['occupancy']} SLA={result['sla_attainment']}")
    print(f"wait p50/p90/p99 = {result['wait_s']['p50']:.1f} / {result['wait_s']['p90']:.1f} / "
          f"{result['wait_s']['p99']:.1f} s")
    print(f"Jain's index per hour (min {result['fairness_min']}):")
    print("  " + " ".join("-" if j is None else f"{j:.3f}" for j in result["fairness_by_hour"]))


if __name__ == "__main__":
    main()
