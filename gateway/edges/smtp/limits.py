"""Limits of the SMTP edge against hostile or broken clients, and the gate that counts sessions.

Each limit costs a legitimate sender at most a retry: a session over a cap is refused with a
``421`` (temporary, the sending MTA tries again later); only mail over the size limit gets a
permanent ``552``. Defaults live in config/settings.py; docs/reliability.md explains them.
"""
from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from dataclasses import dataclass

from config.settings import (DEFAULT_SMTP_COMMAND_TIMEOUT, DEFAULT_SMTP_DATA_RATE,
                             DEFAULT_SMTP_DATA_RATE_TOTAL, DEFAULT_SMTP_MAX_SESSIONS,
                             DEFAULT_SMTP_MAX_SESSIONS_PER_IP, DEFAULT_SMTP_SESSION_TIMEOUT)
from gateway.edges.smtp.pace import Bandwidth

log = logging.getLogger(__name__)

TOO_MANY_SESSIONS = "421 4.7.0 Too many connections, try again later"
TOO_MANY_FROM_PEER = "421 4.7.0 Too many connections from your address, try again later"
SESSION_TOO_LONG = "421 4.4.2 Session time limit reached, try again later"
COMMAND_TIMEOUT = "421 4.4.2 Timeout waiting for the client, closing"
MESSAGE_TOO_BIG = "552 5.3.4 Message size exceeds the limit"


@dataclass(frozen=True)
class SmtpLimits:
    """What one edge process allows its sessions (the size limit is aiosmtpd's own setting)."""
    max_sessions: int = DEFAULT_SMTP_MAX_SESSIONS                # open sessions of the process
    max_sessions_per_ip: int = DEFAULT_SMTP_MAX_SESSIONS_PER_IP  # ... of one client address
    command_timeout_s: float = DEFAULT_SMTP_COMMAND_TIMEOUT      # one command to the next, DATA too
    session_timeout_s: float = DEFAULT_SMTP_SESSION_TIMEOUT      # the whole connection
    data_rate: float = DEFAULT_SMTP_DATA_RATE                    # DATA bytes/s past the first MiB
    data_rate_total: float = DEFAULT_SMTP_DATA_RATE_TOTAL        # ... of all sessions together

    def __post_init__(self):
        if min(self.max_sessions, self.max_sessions_per_ip, self.command_timeout_s,
               self.session_timeout_s) <= 0 or min(self.data_rate, self.data_rate_total) < 0:
            raise ValueError(f"SMTP limits must be positive (data rate: 0 for none): {self}")

    @classmethod
    def from_settings(cls, settings) -> "SmtpLimits":
        return cls(max_sessions=settings.smtp_max_sessions,
                   max_sessions_per_ip=settings.smtp_max_sessions_per_ip,
                   command_timeout_s=settings.smtp_command_timeout,
                   session_timeout_s=settings.smtp_session_timeout,
                   data_rate=settings.smtp_data_rate,
                   data_rate_total=settings.smtp_data_rate_total)


def client_key(peername) -> str:
    """What the per-address cap counts: the IPv4 address, or the /64 of an IPv6 one.

    One IPv6 customer usually holds a whole /64, so counting single addresses would let one
    client open sessions without end.
    """
    if not peername:
        return "local"  # a Unix socket
    address = ipaddress.ip_address(peername[0].split("%")[0])
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


class SessionGate:
    """Counts open sessions, in all and per client address, and refuses those over a cap."""

    def __init__(self, limits: SmtpLimits = SmtpLimits()):
        self.limits = limits
        self.open = 0
        self.by_peer: Counter[str] = Counter()
        self.refused = 0
        # open sessions that have delivered a message: the group commit waits for these only,
        # so hostile or idle sessions never hold back the batch of the senders
        self.senders = 0
        self.bandwidth = Bandwidth(limits.data_rate_total)  # shared by the DATA of all sessions

    def admit(self, peer: str) -> str | None:
        """Count the session in and return None, or return the ``421`` reply that refuses it."""
        if self.open >= self.limits.max_sessions:
            return self._refuse(peer, TOO_MANY_SESSIONS)
        if self.by_peer[peer] >= self.limits.max_sessions_per_ip:
            return self._refuse(peer, TOO_MANY_FROM_PEER)
        self.open += 1
        self.by_peer[peer] += 1
        return None

    def release(self, peer: str) -> None:
        self.open -= 1
        self.by_peer[peer] -= 1
        if not self.by_peer[peer]:
            del self.by_peer[peer]  # the counter would otherwise keep every address ever seen

    def _refuse(self, peer: str, reply: str) -> str:
        self.refused += 1
        if self.refused & (self.refused - 1) == 0:  # 1, 2, 4, 8...: a flood logs a few lines
            log.warning("refused a session from %s (%s); %d refused since start",
                        peer, reply, self.refused)
        return reply
