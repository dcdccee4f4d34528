"""How ``bench/store_fill.py`` writes a big store quickly: what the store maintains row by row
during ordinary work (indexes, the full-text index, foreign key checks) is built once, sorted,
after the rows are in.

SQLite: one connection with load-only pragmas (no journal, no fsync, a 1 GB page cache); the
indexes and triggers of the loaded tables (the FTS5 triggers among them) are dropped first,
rows go in by ``executemany`` (one transaction per chunk), then the indexes are made again,
the FTS5 index is filled from the rows and its segments merged into one
(``store.search_sqlite.SQLITE_FILL``; ``store/fts_upkeep.py`` says why), the triggers come
back, the planner statistics the migrations wrote (``sqlite_stat1``, which ``DROP INDEX``
clears) are restored and the journal is WAL again.

PostgreSQL: one transaction that truncates the tables and ``COPY ... FREEZE``s every row
(frozen and all-visible at once: no VACUUM needed after), with the foreign key triggers off
(``session_replication_role = replica``) and every index but the primary keys dropped; then the
indexes (and the unique constraints on them) are built two at a time and the tables analyzed.
The generated ``search_vector`` is computed by the server during the COPY, as on any insert; the
tickets' search documents, which triggers keep (off during the load), are made from them in the
same transaction (``store.search_pg.PG_FILL``), before the indexes.
"""
from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import psycopg
from sqlalchemy.engine import Engine

from store.search_pg import PG_FILL
from store.search_sqlite import SQLITE_FILL

SQLITE_LOAD_PRAGMAS = ("PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF",
                       "PRAGMA cache_size = -1048576", "PRAGMA temp_store = MEMORY",
                       "PRAGMA locking_mode = EXCLUSIVE", "PRAGMA foreign_keys = OFF")
PG_BUILDERS = 2                 # indexes built at once (the machine has two cores)
PG_BUILD_MEMORY = "1GB"         # maintenance_work_mem of each builder


def complete(table, row: dict) -> list:
    """The row's values in column order; a missing value is the column's default."""
    values = []
    for column in table.columns:
        if column.name in row:
            values.append(row[column.name])
        elif column.default is None:
            values.append(None)
        elif column.default.is_callable:
            values.append(column.default.arg(None))
        else:
            values.append(column.default.arg)
    return values


class SqliteWriter:
    """``executemany`` of one prepared INSERT per table, values as SQLAlchemy would bind them."""

    def __init__(self, engine: Engine, tables):
        self.dialect, self.models = engine.dialect, tables
        engine.dispose()
        self.raw = sqlite3.connect(engine.url.database, isolation_level=None)
        for pragma in SQLITE_LOAD_PRAGMAS:
            self.raw.execute(pragma)
        names = tuple(m.__tablename__ for m in tables)
        self.deferred = self.raw.execute(  # indexes before triggers (made again in this order)
            f"SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN ({', '.join('?' for _ in names)}) "
            f"ORDER BY type", names).fetchall()
        self.stats = self.raw.execute("SELECT tbl, idx, stat FROM sqlite_stat1").fetchall()
        for kind, name, _sql in self.deferred:
            self.raw.execute(f'DROP {kind} "{name}"')

    def write(self, chunk: dict) -> None:
        self.raw.execute("BEGIN")
        for model in self.models:
            if chunk.get(model):
                self._insert(model.__table__, chunk[model])
        self.raw.execute("COMMIT")

    def _insert(self, table, rows: list[dict]) -> None:
        dialect = self.dialect
        processors = [c.type.dialect_impl(dialect).bind_processor(dialect)
                      for c in table.columns]
        names = ", ".join(f'"{c.name}"' for c in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        self.raw.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", (
            [p(v) if p and v is not None else v for p, v in zip(processors, complete(table, r))]
            for r in rows))

    def finish(self, progress) -> None:
        for kind, name, sql in self.deferred:
            if kind == "index":
                self.raw.execute(sql)
        progress("  indexes made")
        for statement in SQLITE_FILL:
            self.raw.execute(statement)
        progress("  full-text index filled")
        for kind, name, sql in self.deferred:
            if kind == "trigger":
                self.raw.execute(sql)
        self.raw.execute("DELETE FROM sqlite_stat1")
        self.raw.executemany("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", self.stats)
        self.raw.execute("PRAGMA locking_mode = NORMAL")
        self.raw.execute("PRAGMA journal_mode = WAL")
        self.raw.close()


PG_INDEXES = """SELECT i.indexname, i.indexdef, c.conname IS NOT NULL
  FROM pg_indexes i LEFT JOIN pg_constraint c ON c.conname = i.indexname AND c.contype = 'u'
  WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
    AND NOT EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conname = i.indexname
                    AND p.contype = 'p')"""


def plain_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


SEARCH_TABLE = "ticket_documents"  # kept by triggers: filled after the load, indexed after


class PostgresWriter:
    """``COPY ... FREEZE`` per table, all in one transaction that truncated the tables."""

    def __init__(self, engine: Engine, tables):
        self.url, self.models = plain_url(engine), tables
        engine.dispose()
        self.conn = psycopg.connect(self.url)
        names = [m.__tablename__ for m in tables]
        self.indexes = self.conn.execute(PG_INDEXES, (names + [SEARCH_TABLE],)).fetchall()
        self.conn.execute("SET session_replication_role = replica")  # no foreign key checks
        for name, definition, constraint in self.indexes:
            self.conn.execute(f"ALTER TABLE {table_of(definition)} DROP CONSTRAINT {name}"
                              if constraint else f"DROP INDEX {name}")
        self.conn.execute(f"TRUNCATE {', '.join(names)} CASCADE")  # COPY FREEZE needs it

    def write(self, chunk: dict) -> None:
        cursor = self.conn.cursor()
        for model in self.models:
            if chunk.get(model):
                self._copy(cursor, model.__table__, chunk[model])

    @staticmethod
    def _copy(cursor, table, rows: list[dict]) -> None:
        names = ", ".join(f'"{c.name}"' for c in table.columns)
        json_columns = {i for i, c in enumerate(table.columns)
                        if c.type.__class__.__name__ == "JSON"}
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FREEZE)") as copy:
            for row in rows:
                values = complete(table, row)
                for i in json_columns:
                    values[i] = json.dumps(values[i])
                copy.write_row(values)

    def finish(self, progress) -> None:
        self.conn.execute("SET session_replication_role = DEFAULT")
        for name in (m.__tablename__ for m in self.models):
            self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                              f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)")
        self.conn.execute(PG_FILL)  # the triggers that keep it were off (replica)
        self.conn.commit()
        progress("  rows committed, search documents made")
        largest_first = sorted(self.indexes, key=lambda ix: "gin" not in ix[1])
        with ThreadPoolExecutor(PG_BUILDERS) as pool:
            for name in pool.map(self._build, largest_first):
                progress(f"  {name} built")
        self.conn.autocommit = True
        for name, definition, constraint in self.indexes:  # after the builds: it locks
            if constraint:
                self.conn.execute(f"ALTER TABLE {table_of(definition)} ADD CONSTRAINT {name} "
                                  f"UNIQUE USING INDEX {name}")
        self.conn.execute("ANALYZE")
        self.conn.close()

    def _build(self, index) -> str:
        name, definition, _constraint = index
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"SET maintenance_work_mem = '{PG_BUILD_MEMORY}'")
            conn.execute(definition)
        return name


def table_of(index_definition: str) -> str:
    return index_definition.split(" ON ", 1)[1].split()[0]
