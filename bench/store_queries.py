"""Which SQL statements the benchmark's work runs and what each costs, for
``bench/store_scale.py --statements``: the slowest ``GET /api/v1/tickets`` of each kind with
its statements (milliseconds each) and the plan of its slowest statement (PostgreSQL
``EXPLAIN ANALYZE``, SQLite ``EXPLAIN QUERY PLAN``), and the ingest's statements summed per
kind of statement, to see what grows with the store.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Request:
    url: str
    ms: float = 0.0
    statements: list[tuple[float, str, object]] = field(default_factory=list)


class StatementLog:
    """Every statement the engine runs, with its time, grouped by request."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.current: Request | None = None
        self.slowest: dict[str, Request] = {}
        self.ingest: dict[str, list[float]] = {}  # statement start -> [count, ms]
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, _cursor, _statement, _parameters, _context, _many) -> None:
        conn.info["statement_started"] = time.perf_counter()

    def _after(self, conn, _cursor, statement, parameters, _context, _many) -> None:
        ms = (time.perf_counter() - conn.info.pop("statement_started")) * 1000
        if self.current is not None:
            self.current.statements.append((ms, statement, parameters))
        else:
            total = self.ingest.setdefault(" ".join(statement.split())[:100], [0, 0.0])
            total[0] += 1
            total[1] += ms

    def start(self, url: str) -> None:
        self.current = Request(url)

    def stop(self, kind: str, ms: float, keep: bool = True) -> None:
        request, self.current = self.current, None
        request.ms = ms
        if keep and (kind not in self.slowest or ms > self.slowest[kind].ms):
            self.slowest[kind] = request

    def report_ingest(self, messages: int) -> None:
        print(f"\ningest statements, ms per message ({messages} messages), largest first:")
        for key, (count, ms) in sorted(self.ingest.items(), key=lambda kv: -kv[1][1])[:15]:
            print(f"   {ms / messages:7.3f}  x{count:<5} {key}")

    def report(self) -> None:
        print("\nslowest request of each kind, its statements (ms) and its slowest one's plan:")
        for kind, request in self.slowest.items():
            print(f"\n== {kind}: {request.ms:.1f} ms  {request.url}")
            for ms, statement, _params in request.statements:
                print(f"   {ms:7.1f}  {' '.join(statement.split())[:160]}")
            plain = [s for s in request.statements if s[1].lstrip().upper().startswith(
                ("SELECT", "WITH")) and "set_config" not in s[1]]
            if plain:
                _ms, statement, params = max(plain, key=lambda s: s[0])
                for line in self.plan(statement, params):
                    print("     |", line)

    def plan(self, statement: str, params) -> list[str]:
        postgres = self.engine.dialect.name == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        with self.engine.connect() as conn:
            if postgres:
                conn.exec_driver_sql("SET plan_cache_mode = force_custom_plan")
            rows = conn.exec_driver_sql(prefix + statement, params).all()
            conn.rollback()
        return [str(row[-1]) for row in rows]
