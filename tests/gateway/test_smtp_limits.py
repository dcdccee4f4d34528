"""The SMTP edge's limits over real TCP: size budget while DATA streams, session caps, timeouts.

Hostile clients are raw sockets bound to their own loopback address (127.0.0.2, ...), so the
per-address cap sees them apart from the well-behaved sender on 127.0.0.1. Limits are small so
that every test is decided by a condition, not by the machine's speed.
"""
import select
import smtplib
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from queues.intake import RAW_KEY, Intake
from gateway.edges.smtp.server import SmtpEdge, smtp_factory
from gateway.edges.smtp.limits import SessionGate, SmtpLimits, client_key
from tests.gateway.test_smtp import queued_envelopes
from tests.integration.harness import PROJECT_DIR, free_port, process_env
from tests.integration.mails import customer_mail

WAIT_S = 30             # upper bound of any wait; tests end as soon as their condition holds
SIZE_LIMIT = 64 * 1024  # bytes of one message in these tests


class LimitedEdge(Controller):
    def __init__(self, handler: SmtpEdge, size_limit: int):
        self.size_limit = size_limit
        super().__init__(handler, hostname="127.0.0.1", port=free_port())

    def factory(self):
        return smtp_factory(self.handler, self.size_limit)()


@contextmanager
def limited_edge(runtime, size_limit: int = SIZE_LIMIT, **limits):
    handler = SmtpEdge(runtime.config, Intake(runtime.redis), SessionGate(SmtpLimits(**limits)))
    edge = LimitedEdge(handler, size_limit)
    edge.start()
    wait_until(lambda: handler.gate.open == 0)  # the controller's start-up probe has left
    try:
        yield edge
    finally:
        edge.stop()


def wait_until(condition, timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Client:
    """A raw SMTP connection from ``source``, for clients that smtplib would not imitate."""

    def __init__(self, port: int, source: str = "127.0.0.2"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S,
                                             source_address=(source, 0))
        self.replies = self.sock.makefile("rb")

    def reply(self) -> bytes:
        line = self.replies.readline()
        while line[3:4] == b"-":
            line = self.replies.readline()
        return line

    def send(self, line: bytes) -> bytes:
        try:
            self.sock.sendall(line + b"\r\n")
        except OSError:  # the server closed: its last reply is still there to read
            pass
        return self.reply()

    def start_data(self) -> None:
        assert self.reply().startswith(b"220")
        for line in (b"EHLO hostile.test", b"MAIL FROM:<x@hostile.test>",
                     b"RCPT TO:<support@demo.test>", b"DATA"):
            assert self.send(line)[:1] in (b"2", b"3")

    def stream(self, piece: bytes, total: int) -> int:
        """Send ``piece`` until ``total`` bytes or until the server closes; return bytes sent."""
        sent = 0
        try:
            while sent < total:
                self.sock.sendall(piece)
                sent += len(piece)
        except OSError:  # reset by the server: expected
            pass
        return sent

    def drip(self, byte: bytes, interval: float = 0.1) -> bytes:
        """Send ``byte`` every ``interval`` until the server says something; return that."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if select.select([self.sock], [], [], interval)[0]:
                return self.reply()
            self.sock.sendall(byte)
        return b""

    def closed(self) -> bool:
        try:
            return self.replies.read() == b""
        except ConnectionResetError:
            return True


def test_stream_without_crlf_gets_552_and_is_closed_long_before_its_end(sqlite_runtime):
    with limited_edge(sqlite_runtime) as edge:
        client = Client(edge.port)
        client.start_data()
        sent = client.stream(b"x" * 65536, total=512 * 1024 * 1024)
        assert client.reply().startswith(b"552 5.3.4") and client.closed()
        assert sent < 64 * 1024 * 1024  # the server stopped reading, the kernel buffers filled
        assert wait_until(lambda: edge.handler.gate.open == 0)
    assert queued_envelopes(sqlite_runtime.redis) == []


def test_oversized_mail_with_line_ends_gets_552(sqlite_runtime):
    with limited_edge(sqlite_runtime) as edge:
        client = Client(edge.port)
        client.start_data()
        client.stream(b"a line of an oversized mail\r\n" * 10_000 + b".\r\n", total=1)
        assert client.reply().startswith(b"552") and client.closed()
    assert queued_envelopes(sqlite_runtime.redis) == []


def test_mail_of_exactly_the_size_limit_is_accepted_on_a_reused_session(sqlite_runtime):
    header = b"From: a@c.test\r\nTo: support@demo.test\r\n\r\n"
    line = b".dotted line\r\n"  # smtplib doubles the dot, the edge removes it again
    raw = header + line * ((SIZE_LIMIT - len(header)) // len(line))
    raw += b"x" * (SIZE_LIMIT - len(raw) - 2) + b"\r\n"
    with limited_edge(sqlite_runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as smtp:
        smtp.sendmail("a@c.test", ["support@demo.test"], raw)
        smtp.sendmail("a@c.test", ["support@demo.test"], customer_mail().as_bytes())
    first = queued_envelopes(sqlite_runtime.redis)[0]
    assert len(raw) == SIZE_LIMIT
    assert sqlite_runtime.redis.get(RAW_KEY + first["raw_ref"]) == raw


def test_sessions_over_the_per_address_cap_get_421_and_other_addresses_still_connect(
        sqlite_runtime):
    with limited_edge(sqlite_runtime, max_sessions_per_ip=2) as edge:
        held = [Client(edge.port, "127.0.0.2") for _ in range(2)]
        assert all(c.reply().startswith(b"220") for c in held)
        refused = Client(edge.port, "127.0.0.2")
        assert refused.reply().startswith(b"421 4.7.0") and refused.closed()
        assert Client(edge.port, "127.0.0.3").reply().startswith(b"220")
        held[0].send(b"QUIT")
        assert wait_until(lambda: edge.handler.gate.by_peer["127.0.0.2"] == 1)
        assert Client(edge.port, "127.0.0.2").reply().startswith(b"220")


def test_sessions_over_the_global_cap_get_421(sqlite_runtime):
    with limited_edge(sqlite_runtime, max_sessions=2) as edge:
        held = [Client(edge.port, f"127.0.0.{n}") for n in (2, 3)]
        assert all(c.reply().startswith(b"220") for c in held)
        refused = Client(edge.port, "127.0.0.4")
        assert refused.reply().startswith(b"421 4.7.0 Too many connections")
        assert refused.closed() and edge.handler.gate.open == 2


def test_idle_client_is_told_421_and_closed_after_the_command_timeout(sqlite_runtime):
    with limited_edge(sqlite_runtime, command_timeout_s=0.5) as edge:
        client = Client(edge.port)
        assert client.reply().startswith(b"220")
        started = time.monotonic()
        assert client.reply().startswith(b"421 4.4.2") and client.closed()
        assert time.monotonic() - started >= 0.4
        assert wait_until(lambda: edge.handler.gate.open == 0)


def test_a_byte_every_tenth_of_a_second_inside_a_command_is_cut_at_the_command_timeout(
        sqlite_runtime):
    with limited_edge(sqlite_runtime, command_timeout_s=1) as edge:
        client = Client(edge.port)
        assert client.reply().startswith(b"220")
        assert client.drip(b"N").startswith(b"421 4.4.2 Timeout") and client.closed()


def test_a_byte_drip_inside_data_is_cut_at_the_command_timeout(sqlite_runtime):
    with limited_edge(sqlite_runtime, command_timeout_s=1) as edge:
        client = Client(edge.port)
        client.start_data()
        assert client.drip(b"x").startswith(b"421 4.4.2 Timeout") and client.closed()
    assert queued_envelopes(sqlite_runtime.redis) == []


def test_commands_dripped_in_time_are_cut_at_the_session_deadline(sqlite_runtime):
    with limited_edge(sqlite_runtime, command_timeout_s=10, session_timeout_s=1) as edge:
        client = Client(edge.port)
        assert client.reply().startswith(b"220")
        replies = [b"250"]
        while replies[-1].startswith(b"250") and len(replies) < WAIT_S * 10:
            time.sleep(0.1)  # a NOOP every 0.1 s: each well within the command timeout
            replies.append(client.send(b"NOOP"))
        assert replies[-1].startswith(b"421 4.4.2 Session") and client.closed()


def test_normal_mail_is_accepted_while_hostile_clients_hold_their_caps(sqlite_runtime):
    with limited_edge(sqlite_runtime, max_sessions=6, max_sessions_per_ip=2) as edge:
        idle = [Client(edge.port, "127.0.0.2") for _ in range(2)]
        flood = Client(edge.port, "127.0.0.2")
        streamer = Client(edge.port, "127.0.0.3")
        streamer.start_data()
        streamer.sock.sendall(b"x" * 32 * 1024)  # half the size limit, no CRLF, then silence
        assert flood.reply().startswith(b"421") and all(c.reply()[:3] == b"220" for c in idle)
        with smtplib.SMTP(edge.hostname, edge.port) as smtp:
            smtp.sendmail("alice@customer.test", ["support@demo.test"],
                          customer_mail().as_bytes())
        assert len(queued_envelopes(sqlite_runtime.redis)) == 1


@pytest.mark.parametrize("peername, key", [
    (("192.0.2.7", 25), "192.0.2.7"),
    (("2001:db8:1:2:aaaa::1", 25, 0, 0), "2001:db8:1:2::/64"),
    (("2001:db8:1:2:bbbb::9", 25, 0, 0), "2001:db8:1:2::/64"),  # same customer, same count
    (("::ffff:192.0.2.7", 25, 0, 0), "192.0.2.7"),
    (None, "local"),
])
def test_the_per_address_cap_counts_ipv4_addresses_and_ipv6_slash_64s(peername, key):
    assert client_key(peername) == key


def test_limits_that_would_refuse_every_session_or_lift_the_size_limit_stop_the_start():
    with pytest.raises(ValueError):
        SmtpLimits(max_sessions_per_ip=0)
    with pytest.raises(ValueError):  # aiosmtpd would read 0 as "no limit"
        smtp_factory(None, 0)


def vm_peak_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_edge_process_memory_stays_flat_under_streams_without_crlf(sqlite_runtime, tmp_path):
    """The reproduction of issue 10: the edge grew by 200 MiB for a 200 MB stream."""
    port = free_port()
    env = {**process_env(sqlite_runtime, tmp_path), "SMTP_PORT": str(port),
           "SMTP_SIZE_LIMIT": str(1024 * 1024)}
    edge = subprocess.Popen([sys.executable, "-m", "gateway.edges.smtp"], env=env, cwd=PROJECT_DIR,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: port_open(port))
        with smtplib.SMTP("127.0.0.1", port) as smtp:  # warm every code path once
            smtp.sendmail("a@c.test", ["support@demo.test"], customer_mail().as_bytes())
        before = vm_peak_mib(edge.pid)
        streams = [Client(port, f"127.0.0.{n}") for n in range(2, 10)]
        for client in streams:
            client.start_data()
        for client in streams:
            client.stream(b"x" * 65536, total=200 * 1024 * 1024)
            assert client.reply().startswith(b"552")
        assert vm_peak_mib(edge.pid) - before < 24
    finally:
        edge.terminate()
        edge.wait(WAIT_S)


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
