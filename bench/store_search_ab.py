"""Two versions of a search engine (``store/search_pg.py`` or ``store/search_sqlite.py``, by
the store's dialect) on one big store, request by request: each list request of
``bench.store_workload.REQUEST_KINDS`` is run through ``gateway.api.tickets.ticket_query``
with this checkout's engine and with another checkout's, in random order, and both must return
the same tickets. Reported per kind: wall clock ms (p50, p99, max) and CPU ms (p50, p90, max:
this process's, plus on PostgreSQL the backend's, read from ``/proc/<pid>/stat`` on this
machine), which a busy shared machine swings far less than the wall clock.

    .venv/bin/python -m bench.store_search_ab \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_store_1000000 \\
        --other /work/tg-base --requests 16
    .venv/bin/python -m bench.store_search_ab --url sqlite:///var/bench/store_1000000.db \\
        --other /work/tg-base --requests 16

The store is one ``bench.store_scale`` built (``--build-only``); nothing is written to it.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import random
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import text

from bench.common import PROJECT_DIR, percentile
from bench.store_fill import SLUG
from bench.store_workload import REQUEST_KINDS, Requests, Sample
from gateway.api import params as wire
from gateway.api.tickets import ticket_query
from store import repo, search, search_engines
from store.db import make_engine, read_session_factory

TICKS = os.sysconf("SC_CLK_TCK")


ENGINE_FILES = {"postgresql": ("search_pg.py", "Postgres"),
                "sqlite": ("search_sqlite.py", "Sqlite")}


def engines_of(checkout: Path, name: str, dialect: str):
    """A checkout's engine for ``dialect`` (``store/search_pg.py`` or ``store/search_sqlite.py``,
    or ``store/search_engines.py`` before the engines had a module each), loaded as a module of
    its own, in the shape of ``store.search_engines``."""
    filename, engine = ENGINE_FILES[dialect]
    path = checkout / "store" / filename
    if not path.exists():
        path = checkout / "store" / "search_engines.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return SimpleNamespace(of=lambda _session: getattr(module, engine))


def backend_cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


def timed(sessions, workspace_id: int, params) -> tuple[list[int], float, float]:
    """The page's ticket ids, wall clock ms and CPU ms (backend and this process)."""
    with sessions() as session:
        pid = None
        if session.get_bind().dialect.name == "postgresql":
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        cpu = backend_cpu_ms(pid) if pid else 0.0
        wall, own = time.perf_counter(), time.process_time()
        ids = [t.id for t in session.scalars(ticket_query(session, workspace_id, params))]
        return (ids, (time.perf_counter() - wall) * 1000,
                (backend_cpu_ms(pid) - cpu if pid else 0.0)
                + (time.process_time() - own) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True,
                        help="a big PostgreSQL or SQLite store (bench.store_scale)")
    parser.add_argument("--other", type=Path, required=True, help="the other checkout")
    parser.add_argument("--requests", type=int, default=16, help="per kind")
    parser.add_argument("--kinds", default=",".join(k for k in REQUEST_KINDS if k.startswith("q")))
    args = parser.parse_args()
    engine = make_engine(args.url)
    versions = {"other": engines_of(args.other, "other_engines", engine.dialect.name),
                "this": engines_of(PROJECT_DIR, "this_engines", engine.dialect.name)}
    sessions = read_session_factory(engine)
    with sessions() as session:
        requests = Requests(Sample(session, random.Random(17)), 17)
        workspace_id = repo.workspace_row(session, SLUG).id
    rng = random.Random(1)
    print(f"{'kind':<18}{'wall p50 / p99 / max: other':>31}{'this':>21}"
          f"{'CPU p50 / p90 / max: other':>30}{'this':>20}")
    for kind in args.kinds.split(","):
        results = {name: ([], []) for name in versions}
        for _ in range(args.requests):
            url = requests.url(kind)
            params = wire.ticket_list({k: v[0] for k, v in parse_qs(urlsplit(url).query).items()})
            pages = {}
            for name in rng.sample(list(versions), 2):
                search.search_engines = versions[name]
                pages[name], wall, cpu = timed(sessions, workspace_id, params)
                results[name][0].append(wall)
                results[name][1].append(cpu)
            assert pages["other"] == pages["this"], (url, pages)
        print(f"{kind:<18}" + "".join(
            f"{percentile(results[n][0], 50):12.0f} /{percentile(results[n][0], 99):6.0f} /"
            f"{max(results[n][0]):6.0f}" for n in versions)
            + "".join(f"{percentile(results[n][1], 50):12.0f} /"
                      f"{percentile(results[n][1], 90):5.0f} /{max(results[n][1]):5.0f}"
                      for n in versions), flush=True)
    search.search_engines = search_engines


if __name__ == "__main__":
    main()
