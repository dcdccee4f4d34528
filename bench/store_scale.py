"""Cost as the store grows: ingest rate and ticket-list latency, small store beside big store.

Two stores of the same shape are built by bulk load (``bench/store_fill.py``: SQLite
executemany or PostgreSQL COPY, not the pipeline), e.g. 10,000 and 1,000,000 tickets, and
kept for later runs (``--rebuild`` to make them again). Then, alternating small and big
round by round so the machine's drift hits both alike:

- ingest: ``--mails`` new mails per round through the real ingest job (``ingest_with``:
  raw payload in Redis, email adapter, pipeline, one transaction per batch of 10);
- list: ``--requests`` ``GET /api/v1/tickets`` per round through the Flask app, drawn from
  ``bench.store_workload.REQUEST_KINDS`` (filters, searches, deep pages).

Reports the median ingest rate per store and its ratio (target: the big store at least 90 % of
the small one) and p50/p99 of the list per kind and overall (target: p99 under 50 ms). The
ingest's cost per message comes as the process's user and system CPU and its read and write
system calls (``/proc/self/io``: SQLite's page reads and its WAL writes are most of them): on a
shared machine the rates swing with the other load, the calls do not. On SQLite each store's
full-text segments are merged into one before the run (``store/fts_upkeep.py``), so every run
starts both stores in the same state (``--keep-segments`` measures them as they are); their
segments after the run are reported. The two stores take turns going first, round by round.
``--explain`` prints the query plans of the ingest path's lookups on the big store.

    .venv/bin/python -m bench.store_scale --db sqlite --sizes 10000,1000000
    .venv/bin/python -m bench.store_scale --db postgresql --sizes 10000,1000000
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import random
import statistics
import time
from pathlib import Path

from sqlalchemy import text

from bench.common import percentile
from bench.store_fill import SLUG
from bench.store_places import SQLITE_DIR, Place
from bench.store_queries import StatementLog
from bench.store_workload import (BATCH, REQUEST_KINDS, MailSource, Requests, Sample,
                                  envelopes)
from config.settings import Settings
from config.workspaces import parse_config
from gateway.web import create_app
from queues.runtime import build_runtime
from store.db import make_engine
from workers.ingest.job import ingest_with

API_KEY_ENV, API_KEY = "TG_BENCH_STORE_KEY", "bench-store-key"


def runtime_for(url: str, redis_url: str, blob_dir: Path):
    config = parse_config({"workspaces": [{"slug": SLUG, "name": "Bench",
                                           "domains": ["bench.test"],
                                           "api_keys": [{"env": API_KEY_ENV}]}]})
    settings = Settings(redis_url=redis_url, database_url=url, blob_dir=str(blob_dir),
                        smtp_port=0)
    return build_runtime(settings, config)


class Store:
    """One store under test: its runtime, app, mail and requests."""

    def __init__(self, label: str, url: str, redis_url: str, blob_dir: Path, seed: int,
                 statements: bool = False):
        self.label = label
        self.rt = runtime_for(url, redis_url, blob_dir)
        self.log = StatementLog(self.rt.sessions.kw["bind"]) if statements else None
        self.client = create_app(self.rt).test_client()
        with self.rt.read_sessions() as session:
            sample = Sample(session, random.Random(seed))
        self.mail, self.requests = MailSource(sample, seed), Requests(sample, seed)
        self.rates: list[float] = []
        self.cpu_rates: list[float] = []  # messages per CPU second of this process
        self.costs: list[dict[str, float]] = []  # per message: CPU ms, system calls, KB
        self.latencies: dict[str, list[float]] = {kind: [] for kind in REQUEST_KINDS}
        self.cpu_ms: dict[str, list[float]] = {kind: [] for kind in REQUEST_KINDS}

    def ingest_round(self, count: int, record: bool = True) -> None:
        raws = self.mail.round(count)
        usage = process_usage()
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, count, BATCH):
            outcomes = ingest_with(self.rt, envelopes(self.rt.redis, raws[start:start + BATCH]))
            assert "quarantined" not in outcomes, outcomes
        if record:
            self.rates.append(count / (time.perf_counter() - started))
            self.cpu_rates.append(count / (time.process_time() - cpu))
            after = process_usage()
            self.costs.append({k: (after[k] - usage[k]) / count for k in after})

    def list_round(self, kinds: list[str], record: bool = True) -> None:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        for kind in kinds:
            url = self.requests.url(kind)
            if self.log:
                self.log.start(url)
            started, cpu = time.perf_counter(), time.process_time()
            response = self.client.get(url, headers=headers)
            if self.log:
                self.log.stop(kind, (time.perf_counter() - started) * 1000, keep=record)
            if record:
                self.latencies[kind].append((time.perf_counter() - started) * 1000)
                self.cpu_ms[kind].append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, (url, response.status_code)


def process_usage() -> dict[str, float]:
    """This process's CPU ms (user, system) and I/O system calls and KB so far."""
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    found = {"user ms": rusage.ru_utime * 1000, "system ms": rusage.ru_stime * 1000}
    try:
        with open("/proc/self/io") as io:
            fields = dict(line.split(":") for line in io)
        found.update({"read calls": int(fields["syscr"]), "read KB": int(fields["rchar"]) / 1024,
                      "write calls": int(fields["syscw"]),
                      "write KB": int(fields["wchar"]) / 1024})
    except OSError:  # not Linux
        pass
    return found


def explain_ingest_lookups(url: str) -> None:
    """The plans of the lookups every ingest batch makes (workers/ingest/view.py and the
    pipeline's repo calls), on the big store."""
    engine = make_engine(url)
    explain = ("EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN ")
    with engine.connect() as conn:
        for label, sql in INGEST_LOOKUPS:
            print(f"-- {label}")
            for row in conn.execute(text(explain + sql)):
                print("   ", row[-1])


INGEST_LOOKUPS = (
    ("dedupe keys", "SELECT workspace_id, dedupe_key FROM messages WHERE dedupe_key IN ('a', 'b')"),
    ("sender identities", "SELECT * FROM identities WHERE value IN ('a@x', 'b@x')"),
    ("thread keys", "SELECT * FROM thread_keys WHERE key IN ('mid:a', 'mid:b')"),
    ("contacts", "SELECT customer_id, kind, value FROM contacts WHERE value IN ('a@x')"),
    ("participants", "SELECT address FROM participants WHERE ticket_id = 5 AND address IN ('a@x')"),
    ("ticket by number", "SELECT * FROM tickets WHERE workspace_id = 1 AND number = 42"),
    ("customer's identity", "SELECT 1 FROM tickets JOIN identities ON identities.customer_id = "
                            "tickets.customer_id WHERE tickets.id = 5 AND identities.kind = "
                            "'email' AND identities.value = 'a@x'"),
    ("follow-ups of a page", "SELECT follow_up_of_id, number FROM tickets "
                             "WHERE follow_up_of_id IN (1, 2, 3)"),
)


def report(stores: list[Store], loads: list[float]) -> None:
    small, big = stores[0], stores[-1]
    print(f"\nload average of the machine during the run: {min(loads):.1f} to {max(loads):.1f} "
          f"(2 cores)")
    print("ingest (messages/s, median of rounds; per CPU second of the benchmark process):")
    for store in stores:
        rounds = " ".join(f"{r:.0f}" for r in store.rates)
        print(f"  {store.label:>14}: {statistics.median(store.rates):7.1f}   per CPU s: "
              f"{statistics.median(store.cpu_rates):7.1f}   rounds: {rounds}")
    for name, attr in (("wall clock", "rates"), ("CPU", "cpu_rates")):
        ratio = (statistics.median(getattr(big, attr))
                 / statistics.median(getattr(small, attr)))
        # each round's pair ran back to back, so the machine's drift hits both alike
        paired = [b / s for b, s in zip(getattr(big, attr), getattr(small, attr))]
        print(f"  big / small ({name}): {ratio:.0%} (target at least 90 %); round by round "
              f"median {statistics.median(paired):.0%}, {min(paired):.0%} to {max(paired):.0%}")
    print("  per message, median of rounds (user and system CPU, I/O system calls):")
    for store in stores:
        print(f"  {store.label:>14}: " + ", ".join(
            f"{key} {statistics.median(c[key] for c in store.costs):.2f}"
            for key in store.costs[0]))
    print("\nGET /api/v1/tickets, wall clock ms (CPU ms of the benchmark process):")
    print(f"  {'kind':<20}" + "".join(f"{s.label + ' p50':>16}{s.label + ' p99':>22}"
                                       for s in stores))
    for kind in (*REQUEST_KINDS, "all"):
        print(f"  {kind:<20}" + "".join(_cells(s, kind) for s in stores))
    print("  (target: p99 under 50 ms)")


def _cells(store: Store, kind: str) -> str:
    wall, cpu = ((all_of(getattr(store, attr)) if kind == "all" else getattr(store, attr)[kind])
                 for attr in ("latencies", "cpu_ms"))
    return f"{percentile(wall, 50):16.1f}{percentile(wall, 99):12.1f} ({percentile(cpu, 99):5.1f})"


def all_of(by_kind: dict[str, list[float]]) -> list[float]:
    return [v for values in by_kind.values() for v in values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", default="10000,1000000", help="tickets, comma separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mails", type=int, default=200, help="mails per ingest round")
    parser.add_argument("--requests", type=int, default=160, help="list requests per round")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--rebuild", action="store_true",
                        help="bulk load the stores again (by default a kept store is reused)")
    parser.add_argument("--data-dir", type=Path, default=SQLITE_DIR,
                        help="where the SQLite stores are kept")
    parser.add_argument("--pg-prefix", default="bench_store",
                        help="PostgreSQL stores are the databases <prefix>_<size>")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--keep-segments", action="store_true",
                        help="SQLite: leave a kept store's full-text segments as they are "
                             "(by default they are merged into one before the run)")
    parser.add_argument("--explain", action="store_true",
                        help="print the plans of the ingest path's lookups on the big store")
    parser.add_argument("--statements", action="store_true",
                        help="print the slowest list request of each kind: its statements and "
                             "the plan of the slowest (bench/store_queries.py)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    place = Place(args.db, args.data_dir, args.pg_prefix)
    urls = [place.prepare(size, args.rebuild, not args.keep_segments) for size in sizes]
    if args.explain:
        explain_ingest_lookups(urls[-1])
    if args.build_only:
        return
    os.environ[API_KEY_ENV] = API_KEY
    stores = [Store(f"{size:,}", url, args.redis_url, args.data_dir / "blobs", seed=17,
                    statements=args.statements) for size, url in zip(sizes, urls)]
    rng, loads = random.Random(3), []
    for store in stores:  # warm up: imports, caches, the first plans
        store.ingest_round(BATCH * 2, record=False)
        store.list_round(list(REQUEST_KINDS), record=False)
    gc.freeze()  # the stores' samples and mail stay: no full collection walks them mid-request
    for round_number in range(args.rounds):
        kinds = [rng.choice(list(REQUEST_KINDS)) for _ in range(args.requests)]
        # the order turns every round (small first, then big first), so neither store always
        # runs right after the other one's list requests or in the same phase of other load
        for store in (stores if round_number % 2 == 0 else stores[::-1]):
            store.ingest_round(args.mails)
            store.list_round(kinds)
        loads.append(os.getloadavg()[0])
        print(f"round {round_number + 1}: " + ", ".join(
            f"{s.label} {s.rates[-1]:.0f} msg/s" for s in stores)
            + f", load average {loads[-1]:.1f}", flush=True)
    report(stores, loads)
    print("\nfull-text segments after the run:")
    for size in sizes:
        print(f"  {size:,}: {place.full_text(size) or '-'}")
    for store in stores:
        if store.log:
            print(f"\n### {store.label} tickets")
            store.log.report_ingest(args.mails * args.rounds + BATCH * 2)
            store.log.report()


if __name__ == "__main__":
    main()
