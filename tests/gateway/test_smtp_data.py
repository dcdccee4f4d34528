"""Reading DATA within a byte budget (gateway/edges/smtp/data.py), fed through a real StreamReader."""
import asyncio
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.edges.smtp.data import DataTooLarge, read_data

READER_LIMIT = 16  # tiny, so that ordinary lines arrive in several pieces


def dot_stuffed(message: bytes) -> bytes:
    """The message as a client sends it after DATA: leading dots doubled, then the end line."""
    lines = message.split(b"\r\n")
    return b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines) \
        + b".\r\n"


def read(wire: bytes, limit: int = 10_000, chunk: int = 7) -> tuple[int, bytes, bytes]:
    """Feed ``wire`` in ``chunk``-byte pieces; return (size, message, bytes left unread)."""
    async def feed(reader):
        for start in range(0, len(wire), chunk):
            reader.feed_data(wire[start:start + chunk])
            await asyncio.sleep(0)  # the reader sees each packet on its own
        reader.feed_eof()

    async def run():
        reader = asyncio.StreamReader(limit=READER_LIMIT)
        feeder = asyncio.create_task(feed(reader))
        sink = io.BytesIO()
        size = await read_data(reader, sink, limit)
        await feeder
        return size, sink.getvalue(), await reader.read()
    return asyncio.run(run())


def test_message_is_unstuffed_and_reading_stops_at_the_end_line():
    size, message, rest = read(b"a\r\n..b\r\n.\r\nQUIT\r\n")
    assert (message, size, rest) == (b"a\r\n.b\r\n", 7, b"QUIT\r\n")


def test_line_longer_than_the_reader_limit_is_accepted_whole():
    body = b"x" * 100 + b"\n" + b"y" * 50 + b"\r\n"  # bare LF: one long "line"
    assert read(body + b".\r\n")[1] == body


def test_a_dot_inside_a_long_line_is_not_taken_for_the_end():
    body = b"z" * 40 + b".\r\n"
    assert read(body + b".\r\n")[1] == body


def test_the_first_byte_past_the_limit_raises_without_reading_on():
    wire = b"x" * 100 + b"\r\n.\r\n"
    with pytest.raises(DataTooLarge):
        read(wire, limit=50)


def test_a_stream_without_crlf_is_cut_at_the_limit_not_at_its_end():
    async def run():
        reader = asyncio.StreamReader(limit=READER_LIMIT)
        reader.feed_data(b"x" * 10_000)  # and no CRLF ever, nor an end
        sink = io.BytesIO()
        with pytest.raises(DataTooLarge):
            await read_data(reader, sink, 100)
        return sink.tell()
    assert asyncio.run(run()) <= 100


def test_connection_closed_during_data_is_a_reset():
    async def run():
        reader = asyncio.StreamReader(limit=READER_LIMIT)
        reader.feed_data(b"half a line")
        reader.feed_eof()
        await read_data(reader, io.BytesIO(), 1000)
    with pytest.raises(ConnectionResetError):
        asyncio.run(run())


# messages made of the bytes that matter to the reader: dots, CR, LF, CRLF and ordinary text
tokens = st.sampled_from([b".", b"\r", b"\n", b"\r\n", b".\r\n", b"x", b"text "])
messages = st.lists(tokens, max_size=30).map(lambda parts: b"".join(parts) + b"\r\n")


@settings(max_examples=500, deadline=None)
@given(message=st.one_of(st.just(b""), messages), chunk=st.integers(1, 23))
def test_any_message_round_trips_whatever_the_packet_boundaries(message, chunk):
    size, read_back, rest = read(dot_stuffed(message) + b"QUIT\r\n", chunk=chunk)
    assert (read_back, size, rest) == (message, len(message), b"QUIT\r\n")
