"""One SMTP connection of the edge: aiosmtpd's protocol with bounded memory, caps and deadlines.

What aiosmtpd does not bound, and this subclass does:

- DATA: read in pieces into a spool within the size limit (gateway/edges/smtp/data.py), paced past
  its first MiB (gateway/edges/smtp/pace.py); the piece that crosses the limit is dropped, the client gets ``552``
  and the connection closes, so nothing past the limit is kept or read. Long lines (bare LF
  mail) are still accepted when the message fits the size limit.
- Sessions: ``SessionDoor`` asks the handler's ``SessionGate`` before aiosmtpd's session (about
  1 ms of introspection to build) exists; over a cap the client gets ``421`` instead of the
  greeting and the connection closes, so a flood of refused connections costs little.
- CPU: plain ``<local@domain>`` paths of MAIL FROM / RCPT TO skip aiosmtpd's general address
  parser (gateway/edges/smtp/address.py), with the same result.
- Time: aiosmtpd's own timer (``command_timeout_s``, restarted at each command, so the whole
  DATA transfer counts as one) now answers ``421`` before closing, and the connection as a whole
  ends after ``session_timeout_s``: a client dripping one command at a time cannot stay forever.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from aiosmtpd.smtp import MISSING, SMTP, syntax

from gateway.edges.smtp.address import simple_path
from gateway.edges.smtp.data import DataTooLarge, new_spool, read_data, spooled_bytes
from gateway.edges.smtp.limits import (COMMAND_TIMEOUT, MESSAGE_TOO_BIG, SESSION_TOO_LONG, client_key)
from gateway.edges.smtp.pace import Pace

log = logging.getLogger(__name__)
READ_LIMIT_BYTES = 64 * 1024  # what the stream reader holds of one line; it pauses the socket at 2x
CLOSE_GRACE_S = 5             # a client that reads none of our replies is cut off after this


class LimitedSMTP(SMTP):
    """aiosmtpd's SMTP session under the edge's limits (see the module docstring)."""

    line_length_limit = READ_LIMIT_BYTES  # read by SMTP.__init__ for its stream reader

    def __init__(self, handler, peer_address: str, **kwargs):
        super().__init__(handler, timeout=handler.gate.limits.command_timeout_s, **kwargs)
        self.gate = handler.gate
        self._peer_address: str | None = peer_address  # admitted by the gate; None once released
        self._deadline = None
        self._delivered = False  # a message of this session got 250: counted in gate.senders

    def connection_made(self, transport):
        first = self._original_transport is None  # not the TLS layer of a STARTTLS session
        super().connection_made(transport)
        if first:
            self._deadline = self.loop.call_later(self.gate.limits.session_timeout_s,
                                                  self._close_with, SESSION_TOO_LONG)

    def connection_lost(self, error):
        if self._peer_address is None:  # already released (a failed STARTTLS calls it twice)
            return
        self.gate.release(self._peer_address)
        self.gate.senders -= self._delivered
        self._peer_address = None
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(error)

    def _getaddr(self, arg: str):
        """aiosmtpd's path parsing, with a fast path for plain ``<local@domain>`` paths
        (gateway/edges/smtp/address.py): the same answer, for less CPU."""
        simple = simple_path(arg)
        if simple is None:
            return SMTP._getaddr(self, arg)
        address, rest = simple
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest

    def _timeout_cb(self):  # aiosmtpd's command timer: say why before closing
        log.info("%r command timeout", self.session.peer)
        self._close_with(COMMAND_TIMEOUT)

    def _close_with(self, reply: str) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(reply.encode() + b"\r\n")
        transport.close()  # flushes the reply first; abort if the client never reads it
        self.loop.call_later(CLOSE_GRACE_S, transport.abort)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA command with the message read by ``read_data`` (see smtp_data)."""
        if not await self._data_may_start(arg):
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        with new_spool() as spool:
            try:
                pace = Pace(self.gate.limits.data_rate, self.gate.bandwidth)
                await read_data(self._reader, spool, self.data_size_limit, pace)
            except DataTooLarge:
                log.warning("552 for %r: DATA past %d bytes", self.session.peer,
                            self.data_size_limit)
                self._close_with(MESSAGE_TOO_BIG)
                await self._writer.wait_closed()  # connection_lost cancels this task
                return
            self.envelope.original_content = self.envelope.content = spooled_bytes(spool)
        status = await self._call_handler_hook("DATA")
        if not self._delivered and str(status).startswith("250"):
            self._delivered = True
            self.gate.senders += 1
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    async def _data_may_start(self, arg: str) -> bool:
        """The checks of aiosmtpd's DATA before ``354``; each failing one has answered."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return False
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return False
        if arg:
            await self.push("501 Syntax: DATA")
            return False
        return True


class SessionDoor(asyncio.Protocol):
    """The protocol a new connection first meets: admitted by the gate, it becomes a session."""

    def __init__(self, gate, new_session: Callable[[str], LimitedSMTP]):
        self.gate = gate
        self.new_session = new_session

    def connection_made(self, transport):
        address = client_key(transport.get_extra_info("peername"))
        refusal = self.gate.admit(address)
        if refusal:
            transport.write(refusal.encode() + b"\r\n")
            transport.close()
            return
        session = self.new_session(address)
        transport.set_protocol(session)
        session.connection_made(transport)

    def connection_lost(self, error):
        pass  # a refused connection: nothing was counted
