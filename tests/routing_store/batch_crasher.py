"""OS processes of the batch routing tests, importable at module level so ``multiprocessing``
can spawn them: one killed (SIGKILL) once it wrote a batch's decisions, before the commit;
one routing a list of tickets in batches beside others doing the same."""
from __future__ import annotations

import logging
import os
import signal

from config.workspaces import parse_config
from store.db import make_engine, session_factory
from tickets import assign, route_batch


def killed_mid_write(url: str, config_data: dict, slug: str, ticket_ids: list[int]) -> None:
    """Route the tickets in one batch and die, as the OOM killer kills, once the batch's
    assignments, agents, tickets and audit rows are written and before the commit."""
    write = route_batch.write

    def write_then_die(session, claim, done, commit=False, then_read=None) -> None:
        write(session, claim, done)  # without commit: on PostgreSQL it would commit
        os.kill(os.getpid(), signal.SIGKILL)
    route_batch.write = write_then_die
    sessions = session_factory(make_engine(url))
    assign.route_all(sessions, parse_config(config_data).workspace(slug), ticket_ids)


class Fallbacks(logging.Handler):
    """Counts the batches the database refused (routed again one ticket at a time)."""
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record) -> None:
        self.count += "one at a time" in record.getMessage()


def route_in_batches(url: str, config_data: dict, ticket_ids: list[int], batch: int,
                     barrier, results) -> None:
    """Route the tickets, ``batch`` at a time, once every process is ready; reports the
    decisions made here (ticket id, kind, agent) and the batches refused."""
    fallbacks = Fallbacks()
    assign.log.addHandler(fallbacks)
    assign.BATCH_MAX = batch
    config = parse_config(config_data).workspace("demo")
    sessions = session_factory(make_engine(url))
    barrier.wait()
    decisions = assign.route_all(sessions, config, ticket_ids)
    results.put(([(int(d.ticket), d.kind, d.agent) for d in decisions], fallbacks.count))
