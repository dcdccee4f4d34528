"""The transport under ``workers.fetch.guarded``: the failure classes, the deadline with its
watchdog, name resolution bounded by the deadline, and urllib3 connections pinned to addresses
that were checked (the host name is never resolved again when connecting).
"""
from __future__ import annotations

import ipaddress
import socket
import threading
import time

from urllib3.connection import HTTPConnection, HTTPSConnection

from workers.fetch.policy import FetchError, IPAddress, Refused

CONNECT_TIMEOUT_S = 5.0              # seconds for one connection attempt (within the deadline)
NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


class TooLarge(FetchError):
    """The body is larger than ``limits.max_bytes``. Permanent."""


class DeadlineExceeded(FetchError):
    """The fetch did not finish within ``limits.deadline_s``."""


class Unreachable(FetchError):
    """No answer: name lookup, connection or TLS failed, or the connection broke. Transient."""


class Deadline:
    """The fetch's end time and its watchdog: sockets it watches are shut down when time is up
    (a blocked read then returns at once, whatever the per-read timeout)."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.budget_s = at - time.monotonic()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._fired = False

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self._timer is None:
                self._timer = threading.Timer(self.remaining(), self._expire)
                self._timer.daemon = True
                self._timer.start()
            fired = self._fired
        if fired:
            _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self._fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _Pinned:
    """Connects to the checked addresses and to no other: the host name is never resolved here."""
    addresses: tuple[IPAddress, ...] = ()
    deadline: Deadline
    connect_timeout_s: float = CONNECT_TIMEOUT_S

    def _new_conn(self) -> socket.socket:
        errors = []
        for address in self.addresses:
            timeout = min(self.connect_timeout_s, self.deadline.remaining())
            if timeout <= 0:
                break
            try:
                sock = socket.create_connection((str(address), self.port), timeout=timeout)
            except OSError as exc:
                errors.append(f"{address}: {exc.strerror or exc.__class__.__name__}")
                continue
            self.deadline.watch(sock)
            return sock
        if self.deadline.expired:
            raise DeadlineExceeded(f"no connection within {self.deadline.budget_s:.3g} s")
        raise Unreachable("cannot connect (" + "; ".join(errors) + ")")


class PinnedHTTPConnection(_Pinned, HTTPConnection):
    pass


class PinnedHTTPSConnection(_Pinned, HTTPSConnection):
    pass


def resolve(host: str, port: int, resolver, deadline: Deadline) -> tuple[IPAddress, ...]:
    """The addresses of ``host`` (an IP literal is its own); the lookup runs in a thread so
    that the deadline bounds it too (``getaddrinfo`` itself has no timeout)."""
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    box: dict = {}

    def lookup() -> None:
        try:
            box["infos"] = resolver(host, port, 0, socket.SOCK_STREAM)
        except Exception as exc:  # gaierror, and UnicodeError for a label over 63 characters
            box["error"] = exc
    thread = threading.Thread(target=lookup, name="fetch-resolve", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if thread.is_alive():
        raise DeadlineExceeded(f"looking up {host} took more than {deadline.budget_s:.3g} s")
    if "error" in box:
        raise _lookup_failure(host, box["error"])
    found = [ipaddress.ip_address(info[4][0]) for info in box["infos"]]
    return tuple(dict.fromkeys(found))


def _lookup_failure(host: str, error: Exception) -> FetchError:
    """A name that does not exist is final (retrying holds a job for nothing); a DNS server
    that does not answer may answer later."""
    if isinstance(error, UnicodeError) or getattr(error, "errno", None) in NO_SUCH_NAME:
        return Refused(f"{host}: no such host")
    return Unreachable(f"cannot resolve {host}: {error}")
