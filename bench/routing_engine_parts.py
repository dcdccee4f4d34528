"""Where the engine's part of a routing decision goes as the agents grow: CPU per decision of
finding the eligible agents, ranking them and explaining the near misses, and of a whole
``Router.route`` (each claim granted, the ticket forgotten afterwards, as a batch does); on
the set-based reference path (``AgentIndex.candidates``, ``routing.scoring``) and on the
vectorized one the router uses (``routing.vector``).

Agents and tickets are drawn as in ``bench.routing_store`` (``bench.routing_population``: 5
languages, 45 products, a language and a product required, 0-2 products preferred), in memory:
no store.

    .venv/bin/python -m bench.routing_engine_parts [--agents 1000,10000 --tickets 500]
"""
from __future__ import annotations

import argparse
import functools
import random
import time

from bench.routing_population import CAPACITY, LANGS, PRODUCTS, TOTAL_UNITS
from routing.engine import Router
from routing.model import Agent, Policy, Request
from routing import vector
from routing.scoring import best_candidate, near_misses


def population(count: int, rng: random.Random) -> Router:
    router = Router(Policy())
    for n in range(count):
        skills = {lang: rng.randint(3, 5) for lang in rng.sample(LANGS, rng.choice((1, 2)))}
        skills.update({p: rng.randint(1, 5) for p in rng.sample(PRODUCTS, rng.randint(4, 6))})
        status = "online" if rng.random() < 0.9 else "away"
        router.put_agent(Agent(f"a{n:05d}", skills, dict(CAPACITY), TOTAL_UNITS, status,
                               load={"email": rng.randint(0, 3)}))
    return router


def tickets(count: int, rng: random.Random) -> list[tuple[dict, dict]]:
    return [({rng.choice(LANGS): 3, rng.choice(PRODUCTS): rng.randint(1, 3)},
             {p: 1.0 for p in rng.sample(PRODUCTS, rng.randint(0, 2))}) for _ in range(count)]


def per_decision(router: Router, work: list, part: str, vectorized: bool) -> float:
    """CPU µs per ticket of finding the candidates and then ``part``."""
    index, policy = router.index, router.policy
    find, rank, explain = index.candidates, best_candidate, near_misses
    if vectorized:
        find, rank, explain = functools.partial(vector.eligible, index), vector.best, \
            vector.near_misses
    router.vectorized = vectorized
    started = time.thread_time()
    for n, (required, preferred) in enumerate(work):
        request = Request(str(n), "email", dict(required), dict(preferred))
        if part == "route":
            router.route(request, 1000.0 + n)
            router.forget_tickets()
            continue
        candidates = find("email", required, set())
        if part == "rank":
            rank(index, request, required, candidates, policy.surplus_weight, policy.load_bands)
        elif part == "near_misses":
            explain(index, request, required, candidates, policy.near_misses)
    return (time.thread_time() - started) / len(work) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=lambda v: [int(n) for n in v.split(",")],
                        default=[1000, 10000])
    parser.add_argument("--tickets", type=int, default=500)
    args = parser.parse_args()
    for count in args.agents:
        for vectorized in (False, True):
            rng = random.Random(1)
            router, work = population(count, rng), tickets(args.tickets, rng)
            found = per_decision(router, work, "candidates", vectorized)
            rank = per_decision(router, work, "rank", vectorized) - found
            misses = per_decision(router, work, "near_misses", vectorized) - found
            print(f"{count} agents, {'vectorized' if vectorized else 'reference '}: candidates "
                  f"{found:.0f} µs, ranking {rank:.0f} µs, near misses {misses:.0f} µs; "
                  f"Router.route {per_decision(router, work, 'route', vectorized):.0f} µs "
                  "per decision")


if __name__ == "__main__":
    main()
