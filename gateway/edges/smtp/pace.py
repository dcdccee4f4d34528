"""Pacing of big DATA transfers, so that one event loop stays free for every other session.

One loop serves all sessions of the SMTP edge: clients pouring megabytes as fast as the socket
takes them make every other session wait behind their pieces (in our benchmark 16 such clients
left normal mail a tenth of its rate). Past its first ``PACE_AFTER_BYTES``, a message is read
at most at the session's rate, and all sessions together share a total rate: the cost of big
transfers stays bounded however many sessions an attacker opens. While a session waits, its
stream reader fills up to its limit and pauses the socket, so the sender waits, not the edge.
Mail under a MiB (nearly all of it) never waits.
"""
from __future__ import annotations

import asyncio

PACE_AFTER_BYTES = 1024 * 1024  # bytes of a message read at full speed before pacing starts


class Bandwidth:
    """A rate shared by every session of the edge; each piece books its time in turn."""

    def __init__(self, rate: float):
        self.rate = rate  # bytes/s; 0: unlimited
        self.free_at = 0.0

    def book(self, nbytes: int, now: float) -> float:
        """When ``nbytes`` just read have been paid for on the shared clock."""
        if self.rate <= 0:
            return now
        self.free_at = max(now, self.free_at) + nbytes / self.rate
        return self.free_at


class Pace:
    """The pace of one message: its own rate, and its turns on the edge's shared bandwidth."""

    def __init__(self, rate: float, shared: Bandwidth):
        self.rate = rate  # bytes/s; 0: unlimited
        self.shared = shared
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time()

    async def keep(self, size: int, piece: int) -> None:
        """Wait as long as the message, ``size`` bytes so far (the last ``piece``), is ahead."""
        if size <= PACE_AFTER_BYTES:
            return
        now = self.loop.time()
        due = self.shared.book(piece, now)
        if self.rate > 0:
            due = max(due, self.started + (size - PACE_AFTER_BYTES) / self.rate)
        if due > now:
            await asyncio.sleep(due - now)
