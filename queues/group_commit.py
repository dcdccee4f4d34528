"""Group commit for asyncio edges: concurrent submissions share one Redis write and one job.

A flush happens as soon as every open session has submitted (so a lone sender never waits), or
``LINGER_S`` after the first pending submission, whichever comes first. Under load the messages
of concurrent sessions become one Redis transaction and one ingest job, which the worker then
stores in one database transaction: RQ's per-job cost is paid once per batch.
"""
from __future__ import annotations

import asyncio
from typing import Callable

from queues.intake import Intake, Submission

MAX_BATCH = 100    # submissions per flush; more wait for the next one
LINGER_S = 0.005   # longest a submission waits for the other open sessions to submit theirs


class GroupCommit:
    def __init__(self, intake: Intake, open_sessions: Callable[[], int] = lambda: 1):
        self.intake = intake
        self.open_sessions = open_sessions
        self._pending: list[tuple[list[Submission], asyncio.Future]] = []
        self._timer: asyncio.TimerHandle | None = None

    async def submit(self, submissions: list[Submission]) -> list[dict]:
        """Resolve to the envelopes once Redis has them; raise IntakeUnavailable otherwise."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((submissions, future))
        if len(self._pending) >= min(MAX_BATCH, self.open_sessions()):
            loop.call_soon(self._flush)
        elif self._timer is None:
            self._timer = loop.call_later(LINGER_S, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        if batch:
            self._write(batch)

    def _write(self, batch) -> None:
        flat = [s for submissions, _ in batch for s in submissions]
        try:
            envelopes = self.intake.accept_many(flat)
        except Exception as exc:  # the edge answers retry-later for each of them
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for submissions, future in batch:
            mine, envelopes = envelopes[:len(submissions)], envelopes[len(submissions):]
            if not future.done():
                future.set_result(mine)
