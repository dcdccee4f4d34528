"""Where ``bench.store_scale`` keeps its big stores and how it gets them: a SQLite file per size
in a folder, or a PostgreSQL database per size; kept from an earlier run (brought to the
current migration, SQLite's full-text index merged) or bulk loaded again (``bench.store_fill``).
"""
from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.common import PROJECT_DIR
from bench.store_fill import fill, stored_tickets
from store import fts_upkeep
from store.db import make_engine
from store.migrate import upgrade

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
SQLITE_DIR = PROJECT_DIR / "var" / "bench"
REUSE_SLACK = 1.05  # a kept store that grew by more than this (earlier runs' ingest): rebuilt


@dataclass(frozen=True)
class Place:
    """Where the stores of one engine live: SQLite files in ``data_dir``, PostgreSQL databases
    named ``<prefix>_<size>``."""
    db: str
    data_dir: Path = SQLITE_DIR
    prefix: str = "bench_store"

    def url(self, size: int) -> str:
        if self.db == "sqlite":
            return f"sqlite:///{self.data_dir / f'store_{size}.db'}"
        return POSTGRES_URL.format(name=f"{self.prefix}_{size}")

    def fresh_database(self, size: int) -> str:
        url = self.url(size)
        if self.db == "sqlite":
            self.data_dir.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm", ".writelock"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        else:
            admin = make_engine(POSTGRES_ADMIN_URL).execution_options(
                isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                name = f"{self.prefix}_{size}"
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
            admin.dispose()
        upgrade(url)
        return url

    def merge_full_text(self, size: int) -> None:
        """SQLite: the kept store's full-text segments merged into one, as the bulk load
        leaves them (earlier runs' ingest left small segments and merges due)."""
        if self.db != "sqlite":
            return
        started = time.perf_counter()
        with closing(self.sqlite(size)) as conn:
            fts_upkeep.optimize(conn)
        print(f"  full-text segments merged, {time.perf_counter() - started:.0f} s", flush=True)

    def sqlite(self, size: int) -> sqlite3.Connection:
        return sqlite3.connect(self.url(size).removeprefix("sqlite:///"), isolation_level=None)

    def full_text(self, size: int) -> str:
        if self.db != "sqlite":
            return ""
        with closing(self.sqlite(size)) as conn:
            return "; ".join(f"{table}: {fts_upkeep.describe(fts_upkeep.segments(conn, table))}"
                             for table in fts_upkeep.fts5_tables(conn))

    def existing_size(self, size: int) -> int:
        if self.db == "sqlite" and not Path(self.url(size).removeprefix("sqlite:///")).exists():
            return 0
        engine = make_engine(self.url(size))
        try:
            return stored_tickets(engine)
        except Exception:  # no such database yet, or not migrated
            return 0
        finally:
            engine.dispose()

    def prepare(self, size: int, rebuild: bool, merge: bool = True) -> str:
        """The store of ``size`` tickets: kept from an earlier run, else bulk loaded."""
        found = self.existing_size(size)
        if not rebuild and size <= found <= size * REUSE_SLACK:
            print(f"{self.db} {size:,}: reusing the store ({found:,} tickets)", flush=True)
            upgrade(self.url(size))  # migrations added since it was built, as on a live store
            if merge:
                self.merge_full_text(size)
            return self.url(size)
        print(f"{self.db} {size:,}: bulk loading ...", flush=True)
        url = self.fresh_database(size)
        seconds = fill(make_engine(url), size, progress=lambda line: print(line, flush=True))
        print(f"{self.db} {size:,}: loaded in {seconds:.0f} s, load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        return url
