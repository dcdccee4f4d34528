"""Which addresses a server-side fetch may connect to (pure; used by ``workers.fetch.guarded``).

A fetch reaches only public unicast addresses. Refused, each with a reason that names the range:
loopback, private (RFC 1918), link-local (169.254/16 holds the cloud metadata address
169.254.169.254), shared CGNAT space 100.64/10, unique-local fc00::/7, IPv6 link-local,
multicast, broadcast, unspecified, reserved and documentation ranges, and every IPv6 form that
carries one of those IPv4 addresses (IPv4-mapped ``::ffff:127.0.0.1``, 6to4 ``2002::/16``, NAT64
``64:ff9b::/96``, deprecated IPv4-compatible ``::a.b.c.d``).

A workspace lifts the rule for the hosts of its ``fetch_allow_hosts`` (``config.fetch``): a listed
host name admits whatever it resolves to; a listed address or network admits the addresses in it.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ordered: the first match names the refusal. ``is_global`` catches the rest (documentation,
# benchmarking, IETF protocol ranges), whatever Python's version adds to it.
NAMED_RANGES = tuple((ipaddress.ip_network(net), label) for net, label in (
    ("0.0.0.0/8", "unspecified"), ("::/128", "unspecified"),
    ("127.0.0.0/8", "loopback"), ("::1/128", "loopback"),
    ("10.0.0.0/8", "private"), ("172.16.0.0/12", "private"), ("192.168.0.0/16", "private"),
    ("169.254.169.254/32", "link-local (cloud metadata)"), ("169.254.0.0/16", "link-local"),
    ("fe80::/10", "link-local"),
    ("100.64.0.0/10", "shared (CGNAT)"), ("192.0.0.0/24", "reserved (IETF protocol)"),
    ("fc00::/7", "unique-local"), ("fec0::/10", "site-local"),
    ("224.0.0.0/4", "multicast"), ("ff00::/8", "multicast"),
    ("255.255.255.255/32", "broadcast"), ("240.0.0.0/4", "reserved"),
))
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class FetchError(Exception):
    """A server-side fetch that did not produce a response; ``reason`` is short and human
    readable (never the URL: it may carry credentials or signed tokens)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(FetchError):
    """The fetch may not go there (scheme, address, too many redirects, bad URL, a host name
    that does not exist). Permanent."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64, compatible), if any."""
    if address.version == 4:
        return None
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: IPAddress) -> str:
    """'' for a public unicast address, else the name of the range that forbids it."""
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = forbidden_reason(inner)
        return f"{reason} (as {inner})" if reason else ""
    for network, label in NAMED_RANGES:
        if address.version == network.version and address in network:
            return label
    if address.is_multicast or address.is_reserved or not address.is_global:
        return "reserved or special-purpose"
    return ""


@dataclass(frozen=True)
class AllowList:
    """The workspace's ``fetch_allow_hosts`` (entries already normalized by ``config.fetch``)."""
    entries: tuple[str, ...] = ()

    @classmethod
    def of(cls, workspace) -> "AllowList":
        """The list of a workspace's configuration (empty for None)."""
        return cls(tuple(getattr(workspace, "fetch_allow_hosts", ()) or ()))

    def names_host(self, host: str) -> bool:
        return host.lower().rstrip(".").strip("[]") in self.entries

    def contains(self, address: IPAddress) -> bool:
        for entry in self.entries:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:  # a host name entry
                continue
        return False


def check(host: str, addresses: Sequence[IPAddress], allow: AllowList) -> Sequence[IPAddress]:
    """``addresses`` (what ``host`` resolved to) when the fetch may use them; else ``Refused``.
    Every address must pass: a name that also resolves to a private address is refused."""
    if not addresses:
        raise Refused(f"{host} has no address")
    if allow.names_host(host):
        return addresses
    for address in addresses:
        reason = forbidden_reason(address)
        if reason and not allow.contains(address):
            shown = host if host == str(address) else f"{host} ({address})"
            raise Refused(f"{shown} is a {reason} address, not in fetch_allow_hosts")
    return addresses
