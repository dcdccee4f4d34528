"""Whether a new ticket gets an automatic acknowledgement (pure: facts in, a decision out).

Never to automatic mail (auto-replies, out-of-office, bounces, complaints), list or bulk mail,
spam, our own loops; never to mailer-daemon, postmaster, no-reply and similar robot addresses,
nor to our own addresses; only on channels answered by email (email and the contact form).
Rate limits per recipient and per ticket come on top (``ack``), and so does the address's
bouncing flag.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ACK_CHANNELS = ("email", "form")
ACK_AUTHOR = "system:acknowledgement"   # author of stored acknowledgements
ROBOT_LOCAL_PART = re.compile(  # matched against the local part without its +tag
    r"^(mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|"
    r"bounces?|.*[-_.]bounces?|listserv|majordomo|mailman|.*-request|.*-owner|owner-.*|"
    r"auto[-_.]?(reply|responder|confirm)|daemon|root|abuse|notifications?|"
    r"(no[-_.]?reply|bounces?)[-_.].*)$", re.IGNORECASE)

@dataclass(frozen=True)
class Decision:
    send: bool
    reason: str


def decide(*, enabled: bool, channel: str, classification: str, address: str,
           own: bool) -> Decision:
    """``own``: the address belongs to one of our workspaces."""
    if not enabled:
        return Decision(False, "disabled")
    if channel not in ACK_CHANNELS:
        return Decision(False, f"channel {channel} is answered in its conversation")
    if classification not in ("", "normal"):
        return Decision(False, f"classified {classification}")
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain:
        return Decision(False, "no usable email address")
    if own:
        return Decision(False, "one of our own addresses")
    if ROBOT_LOCAL_PART.match(local.split("+", 1)[0]):
        return Decision(False, f"robot address {address}")
    return Decision(True, "new ticket")
