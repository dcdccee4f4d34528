"""What a full-text index with merges due costs the ingest, measured in one run (SQLite).

Three stores take turns, the order rotating round by round: a small store and two copies of a
big one, the first with its FTS5 segments as they are (e.g. as a ``rebuild`` left them), the
second merged into one segment first (``store/fts_upkeep.py``; this script merges that copy
itself, and the small store too). Each round sends ``--mails`` new mails through the real
ingest job into each (``bench/store_scale.py``'s ``Store``). Reports per store the median rate,
its rate per CPU second of this process, the CPU and I/O system calls per message, and the
ratios, each round's stores compared with each other (paired).

    cp store_1000000.db /elsewhere/store_1000000.db
    .venv/bin/python -m bench.fts_debt --small var/bench/store_10000.db \\
        --kept /elsewhere/store_1000000.db --merged var/bench/store_1000000.db
"""
from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import statistics
from contextlib import closing
from pathlib import Path

from bench.store_scale import API_KEY, API_KEY_ENV, Store
from bench.store_workload import BATCH
from store import fts_upkeep


def merged(path: Path) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        fts_upkeep.optimize(conn)
        print(f"{path}: " + "; ".join(
            f"{t} {fts_upkeep.describe(fts_upkeep.segments(conn, t))}"
            for t in fts_upkeep.fts5_tables(conn)), flush=True)


def segments_of(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return "; ".join(f"{t} {fts_upkeep.describe(fts_upkeep.segments(conn, t))}"
                         for t in fts_upkeep.fts5_tables(conn))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=Path, required=True)
    parser.add_argument("--kept", type=Path, required=True, help="big store, segments as they are")
    parser.add_argument("--merged", type=Path, required=True,
                        help="a copy of the big store, merged into one segment by this script")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--mails", type=int, default=100)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    for path in (args.small, args.merged):
        merged(path)
    print(f"{args.kept}: {segments_of(args.kept)}", flush=True)
    os.environ[API_KEY_ENV] = API_KEY
    stores = [Store(label, f"sqlite:///{path}", args.redis_url, path.parent / "blobs", seed=17)
              for label, path in (("small", args.small), ("big, kept", args.kept),
                                  ("big, merged", args.merged))]
    for store in stores:
        store.ingest_round(BATCH * 2, record=False)
    gc.freeze()
    loads = []
    for number in range(args.rounds):
        order = stores[number % 3:] + stores[:number % 3]
        for store in (order if (number // 3) % 2 == 0 else order[::-1]):
            store.ingest_round(args.mails)
        loads.append(os.getloadavg()[0])
    print(f"\nload average {min(loads):.1f} to {max(loads):.1f} (2 cores), "
          f"{args.rounds} rounds of {args.mails} mails")
    for store in stores:
        print(f"  {store.label:>12}: {statistics.median(store.rates):6.1f} msg/s, "
              f"{statistics.median(store.cpu_rates):6.1f} per CPU s; per message: " + ", ".join(
                  f"{k} {statistics.median(c[k] for c in store.costs):.2f}"
                  for k in store.costs[0]))
    for top, bottom in ((1, 0), (2, 0), (2, 1)):
        for name, attr in (("wall clock", "rates"), ("CPU", "cpu_rates")):
            a, b = getattr(stores[top], attr), getattr(stores[bottom], attr)
            paired = statistics.median(x / y for x, y in zip(a, b))
            print(f"  {stores[top].label} / {stores[bottom].label} ({name}): "
                  f"{statistics.median(a) / statistics.median(b):.0%}, paired {paired:.0%}")
    print(f"\nsegments after the run: {args.kept}: {segments_of(args.kept)}")


if __name__ == "__main__":
    main()
