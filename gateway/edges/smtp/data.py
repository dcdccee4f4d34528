"""Reading the DATA of one SMTP transaction within a byte budget, spooled rather than held.

aiosmtpd collects DATA as a list of lines in memory and, once a line exceeds its reader limit,
keeps appending the fragments of that line until a CRLF comes, even past the size limit: a client
that streams without CRLF grows the server without bound. Here the stream is read in pieces of
at most what the stream reader holds (bounded by its limit and flow control), un-dot-stuffed
(RFC 5321 4.5.2), counted, and written to a spool that stays in memory while small and moves to
a temporary file beyond ``SPOOL_MEMORY_BYTES``. The piece that crosses the budget raises
``DataTooLarge`` without being kept, and nothing after it is read.
"""
from __future__ import annotations

import asyncio
from tempfile import SpooledTemporaryFile
from typing import BinaryIO

from gateway.edges.smtp.pace import Pace

SPOOL_MEMORY_BYTES = 128 * 1024  # bytes of one message kept in memory; the rest goes to a file


class DataTooLarge(Exception):
    """The message went past the session's byte budget (the SMTP size limit)."""


def new_spool() -> SpooledTemporaryFile:
    return SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)


# Where the reader stands in the stream; only a dot at a line start needs a closer look.
MID_LINE, AT_LINE_START, AFTER_CR, AFTER_DOT = range(4)


async def read_data(reader: asyncio.StreamReader, sink: BinaryIO, limit: int,
                    pace: Pace | None = None) -> int:
    """Copy one message from ``reader`` to ``sink`` up to the end-of-data line; return its size.

    Lines longer than the reader's limit (bare LF mail arrives as one "line") are taken in
    pieces, so they are accepted like any other as long as the whole message fits ``limit``.
    ``pace`` holds big messages back (gateway/edges/smtp/pace.py).
    """
    size, state = 0, AT_LINE_START  # DATA begins at a line start
    try:
        while True:
            piece, state = await _next_piece(reader, state)
            if piece is None:
                return size
            size += len(piece)
            if size > limit:
                raise DataTooLarge(f"message exceeds {limit} bytes")
            sink.write(piece)
            if pace is not None:
                await pace.keep(size, len(piece))
    except asyncio.IncompleteReadError as closed:
        raise ConnectionResetError("connection closed during DATA") from closed


async def _next_piece(reader: asyncio.StreamReader, state: int) -> tuple[bytes | None, int]:
    """The next bytes of the message and the state after them; None at the end-of-data line.

    Between line-start dots the reader hands over whole runs of lines at once (a per-line loop
    costs a coroutine step per 80 bytes); around a dot it goes byte by byte.
    """
    if state == MID_LINE:
        piece = await _up_to_a_line_start_dot(reader)
        if piece.endswith(b"\r\n."):
            return piece[:-1], AFTER_DOT  # the dot is transparency or the end: decided next
        return piece, _state_after(piece)
    if state == AFTER_DOT:
        two = await reader.readexactly(2)
        return (None, state) if two == b"\r\n" else (two, _state_after(two))
    byte = await reader.readexactly(1)
    if state == AT_LINE_START and byte == b".":
        return b"", AFTER_DOT
    return byte, AT_LINE_START if state == AFTER_CR and byte == b"\n" else _state_after(byte)


async def _up_to_a_line_start_dot(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n.")
    except asyncio.LimitOverrunError as overrun:
        # what the reader holds; ``consumed`` leaves the last two bytes, so "\r\n." is never cut
        return await reader.read(overrun.consumed)


def _state_after(piece: bytes) -> int:
    if piece.endswith(b"\r\n"):
        return AT_LINE_START
    return AFTER_CR if piece.endswith(b"\r") else MID_LINE


def spooled_bytes(spool: BinaryIO) -> bytes:
    spool.seek(0)
    return spool.read()
