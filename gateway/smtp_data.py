"""Reading the DATA of one SMTP transaction within a byte budget, spooled rather than held.

aiosmtpd collects DATA as a list of lines in memory and, once a line exceeds its reader limit,
keeps appending the fragments of that line until a CRLF comes, even past the size limit: a client
that streams without CRLF grows the server without bound. Here the stream is read in pieces of
what the stream reader holds (bounded by its limit and flow control), un-dot-stuffed (RFC 5321
4.5.2), counted, and written to a spool that stays in memory while small and moves to a temporary
file beyond ``SPOOL_MEMORY_BYTES``. The piece that crosses the budget raises ``DataTooLarge``
without being kept, and nothing after it is read.
"""
from __future__ import annotations

import asyncio
from tempfile import SpooledTemporaryFile
from typing import BinaryIO

SPOOL_MEMORY_BYTES = 128 * 1024  # bytes of one message kept in memory; the rest goes to a file
END_OF_DATA = b".\r\n"           # a line holding a lone dot ends DATA


class DataTooLarge(Exception):
    """The message went past the session's byte budget (the SMTP size limit)."""


def new_spool() -> SpooledTemporaryFile:
    return SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)


async def read_data(reader: asyncio.StreamReader, sink: BinaryIO, limit: int) -> int:
    """Copy one message from ``reader`` to ``sink`` up to the end-of-data line; return its size.

    Lines longer than the reader's limit (bare LF mail arrives as one "line") are taken in
    pieces, so they are accepted like any other as long as the whole message fits ``limit``.
    """
    size, at_line_start = 0, True
    while True:
        piece = await _next_piece(reader)
        if at_line_start and piece == END_OF_DATA:
            return size
        if at_line_start and piece.startswith(b"."):
            piece = piece[1:]  # transparency: the sender doubled a leading dot
        size += len(piece)
        if size > limit:
            raise DataTooLarge(f"message exceeds {limit} bytes")
        sink.write(piece)
        at_line_start = piece.endswith(b"\r\n")


async def _next_piece(reader: asyncio.StreamReader) -> bytes:
    """A whole line, or the part of a longer one that the reader holds (never a split CRLF)."""
    try:
        return await reader.readuntil(b"\r\n")
    except asyncio.LimitOverrunError as overrun:
        # ``consumed`` stops before a trailing CR, so a CRLF is never cut in two
        return await reader.read(overrun.consumed)
    except asyncio.IncompleteReadError as closed:
        raise ConnectionResetError("connection closed during DATA") from closed


def spooled_bytes(spool: BinaryIO) -> bytes:
    spool.seek(0)
    return spool.read()
