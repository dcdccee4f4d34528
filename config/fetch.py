"""The workspace's allow list of server-side fetches (``fetch_allow_hosts`` in the workspace file).

Server-side fetches (chat attachment URLs, the chat callback, the outbound webhook) never reach a
loopback, private, link-local, shared, multicast or reserved address, unless the workspace names
the host here: a host name (matched exactly, case-insensitive, against the URL's host), an IP
address, or an IP network in CIDR form (``10.20.0.0/16``: any address inside it). Entries are
normalized at load (lowercase, no trailing dot, no brackets), so the fetcher compares plain
strings. docs/configuration.md and docs/reliability.md explain the rule.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator

# RFC 1123 labels; '_' tolerated (seen in internal names), no wildcards: a listed host is exact.
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)"
                       r"(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")


def allow_entry(value: str) -> str:
    """One entry, normalized; ``ValueError`` (a clear config error) when it is none of the three."""
    entry = value.strip().lower().rstrip(".")
    if entry.startswith("[") and entry.endswith("]"):
        entry = entry[1:-1]
    try:
        return str(ipaddress.ip_network(entry, strict=False)) if "/" in entry \
            else str(ipaddress.ip_address(entry))
    except ValueError:
        pass
    if "/" in entry or not HOST_NAME.match(entry):
        raise ValueError(f"{value!r} is not a host name, an IP address or a CIDR network")
    return entry


def allow_entries(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(allow_entry(v) for v in values))


AllowHosts = Annotated[tuple[str, ...], AfterValidator(allow_entries)]
