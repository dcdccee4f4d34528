"""The one HTTP client of every server-side fetch of a URL a customer or a workspace supplied
(chat attachment URLs, the chat callback, the outbound webhook).

``fetch(url, allow=..., limits=...)`` follows the rules of docs/reliability.md:

* http and https only; a URL that is not one is ``Refused``.
* Each hop's host is resolved once and every address it resolves to is checked
  (``workers.fetch.policy``); the connection then goes to a checked address and to no other
  (the name is never resolved again, so DNS rebinding between check and connect cannot work),
  while the Host header, TLS SNI and the certificate check keep the URL's host name.
* Redirects (GET only) are followed by hand, each hop checked the same way, at most
  ``limits.max_redirects``.
* ``limits.deadline_s`` bounds the whole fetch (resolution, connection, redirects, headers and
  body): a watchdog shuts the socket down when time is up, so a server that drips one byte a
  second is cut at the deadline, not at a per-read timeout.
* The body is streamed and cut past ``limits.max_bytes`` (an announced larger length is refused
  before reading).

Failures: ``Refused`` and ``TooLarge`` are permanent; ``DeadlineExceeded`` and ``Unreachable``
(name lookup failed, connection refused or reset, TLS failure) may work later: the caller
decides. Reasons never contain the URL (it may carry credentials or signed tokens).
Built on urllib3's connection classes (docs/dependencies.md says why).
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from http.client import HTTPException, InvalidURL
from urllib.parse import quote, unquote, urljoin, urlsplit

import certifi
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import make_headers

from workers.fetch.policy import AllowList, Refused, check
from workers.fetch.transport import (CONNECT_TIMEOUT_S, Deadline, DeadlineExceeded, FetchError, PinnedHTTPConnection, PinnedHTTPSConnection, TooLarge, Unreachable, resolve)

DEFAULT_DEADLINE_S = 30.0            # seconds for the whole fetch, redirects and body included
DEFAULT_MAX_BYTES = 25 * 1024 * 1024  # body bytes read at most
DEFAULT_MAX_REDIRECTS = 3
CHUNK = 64 * 1024
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
USER_AGENT = "ticketgate-fetch/1"

__all__ = ["AllowList", "DeadlineExceeded", "FetchError", "Limits", "Refused", "Response",
           "TooLarge", "Unreachable", "fetch"]


@dataclass(frozen=True)
class Limits:
    deadline_s: float = DEFAULT_DEADLINE_S
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    connect_timeout_s: float = CONNECT_TIMEOUT_S


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)   # lowercase names
    body: bytes = b""

    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Target:
    """One hop's URL, taken apart; ``host`` without brackets, IDNA-encoded."""
    scheme: str
    host: str
    port: int
    path: str
    userinfo: str

    @classmethod
    def parse(cls, url: str) -> "Target":
        try:
            parts = urlsplit(url)
            scheme, host, port = parts.scheme.lower(), parts.hostname or "", parts.port
            host = host.encode("idna").decode("ascii") if not host.isascii() else host
        except (ValueError, UnicodeError):
            raise Refused("invalid URL") from None
        if scheme not in ("http", "https"):
            raise Refused(f"only http and https URLs are fetched, not {scheme or 'no scheme'!r}")
        if not host:
            raise Refused("invalid URL: no host")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        path = "".join(c if c.isascii() else quote(c) for c in path)  # as browsers send it
        userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        return cls(scheme, host, port or (443 if scheme == "https" else 80), path, userinfo)


@dataclass
class _Call:
    """One ``fetch`` call: what to send, under which rules, until when."""
    allow: AllowList
    limits: Limits
    deadline: Deadline
    method: str
    body: bytes | None
    headers: dict
    read_body: bool
    resolver: object
    ca_certs: str

    def too_late(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"not finished within {self.deadline.budget_s:.3g} s")


def fetch(url: str, *, allow: AllowList = AllowList(), limits: Limits = Limits(),
          method: str = "GET", body: bytes | None = None, headers: dict | None = None,
          read_body: bool = True, until: float | None = None,
          resolver=socket.getaddrinfo, ca_certs: str = "") -> Response:
    """One request, redirects followed for GET; ``until`` (a ``time.monotonic()`` value) ends
    it earlier than ``limits.deadline_s``; ``resolver`` is ``socket.getaddrinfo``-shaped;
    ``ca_certs`` a PEM bundle of trusted CAs (default: certifi's, as requests uses)."""
    end = time.monotonic() + limits.deadline_s
    call = _Call(allow, limits, Deadline(min(end, until) if until is not None else end),
                 method.upper(), body, headers or {}, read_body, resolver,
                 ca_certs or certifi.where())
    try:
        for _ in range(limits.max_redirects + 1):
            response, location = _hop(call, Target.parse(url))
            if location is None:
                return response
            url = urljoin(url, location)
        raise Refused(f"more than {limits.max_redirects} redirects")
    finally:
        call.deadline.close()


def _hop(call: _Call, target: Target) -> tuple[Response | None, str | None]:
    """(response, None), or (None, Location) for a redirect to follow."""
    addresses = check(target.host, resolve(target.host, target.port, call.resolver,
                                           call.deadline), call.allow)
    conn = _connection(target, addresses, call)
    try:
        conn.request(call.method, target.path, body=call.body,
                     headers=_headers(target, call.headers), preload_content=False)
        raw = conn.getresponse()
        location = raw.headers.get("Location") if call.method == "GET" else None
        if raw.status in REDIRECT_STATUSES and location:
            return None, location
        response = Response(raw.status, raw.reason or "",
                            {k.lower(): v for k, v in raw.headers.items()})
        if call.read_body:
            response.body = _read_capped(raw, call.limits.max_bytes)
    except InvalidURL:
        raise Refused("invalid URL") from None
    except (OSError, HTTPException, Urllib3Error) as exc:
        if call.deadline.expired:
            raise call.too_late() from None
        raise Unreachable(f"{target.host}: {exc.__class__.__name__}") from exc
    finally:
        conn.close()
    if call.deadline.expired:  # a body without a length ends like a cut one: never keep it
        raise call.too_late()
    return response, None


def _connection(target: Target, addresses, call: _Call):
    """A connection to ``target.host`` (Host header, SNI, certificate) pinned to ``addresses``."""
    if target.scheme == "https":
        conn = PinnedHTTPSConnection(target.host, target.port, cert_reqs="CERT_REQUIRED",
                                     ca_certs=call.ca_certs)
    else:
        conn = PinnedHTTPConnection(target.host, target.port)
    conn.addresses, conn.deadline = addresses, call.deadline
    conn.connect_timeout_s = call.limits.connect_timeout_s
    # Every read waits at most until the deadline; the watchdog cuts reads that keep trickling.
    conn.timeout = max(call.deadline.remaining(), 0.001)
    return conn


def _headers(target: Target, extra: dict) -> dict:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **extra}
    if target.userinfo:
        headers.update(make_headers(basic_auth=_unquote(target.userinfo)))
    return headers


def _unquote(userinfo: str) -> str:
    user, _, password = userinfo.partition(":")
    return f"{unquote(user)}:{unquote(password)}"


def _read_capped(raw, max_bytes: int) -> bytes:
    """At most ``max_bytes``: an announced larger body is refused unread, a longer one cut."""
    announced = raw.headers.get("Content-Length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise TooLarge(f"too big ({_mib(int(announced))} > {_mib(max_bytes)})")
    data = bytearray()
    while chunk := raw.read(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise TooLarge(f"too big (more than {_mib(max_bytes)})")
    return bytes(data)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
