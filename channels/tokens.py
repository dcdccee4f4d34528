"""Signed ticket tokens: what our outbound mail carries so the customer's answer threads back.

A token names one ticket of one workspace and proves we issued it. Layout (before encoding):
one version byte, the ticket number as 8 big-endian bytes, then the first 10 bytes of
HMAC-SHA256 over ``"ticketgate-token" | workspace slug | version+number`` with the signing key.
The workspace is bound by the MAC, not carried: the mail reached one workspace already, and the
slug would not fit into an address's local part (64 characters). Encoded as lowercase base32
without padding (31 characters of ``a-z2-7``), it survives case-folding mail systems, fits
``support+<token>@domain`` and a Message-ID, and is checked in constant time. A token from
another workspace, another key, or with a changed character does not verify.

Key rotation: ``verify`` takes several keys (newest first; ``config.signing`` reads them) and
accepts a token of any of them, so answers to mail sent before a rotation still thread. The
token names no key (same bytes but the tag, whatever the key): no key id to swap or strip, the
80-bit tag stays the whole proof.

Uses: Message-ID ``<tg.<token>.<random>@domain>``, Reply-To ``support+<token>@domain``, the
body markers ``[tg:<token>]`` (text) and ``<!-- tg:<token> -->`` (HTML). Pure: no I/O, no
environment; the caller passes the keys.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from collections.abc import Sequence

VERSION = 1
MAC_BYTES = 10                     # 80 bits: forging one needs 2^80 tries on average
PAYLOAD = struct.Struct(">BQ")     # version, ticket number
TOKEN_CHARS = 31                   # base32 of 19 bytes, without padding
_OWN_MESSAGE_ID = re.compile(r"^tg\.([a-z2-7]{31})\.[A-Za-z0-9_-]+@", re.IGNORECASE)


def sign(key: str | bytes, workspace: str, number: int) -> str:
    """The token of ticket ``number`` of ``workspace``."""
    payload = PAYLOAD.pack(VERSION, number)
    return _encode(payload + _mac(key, workspace, payload))


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def verify(keys: str | bytes | Sequence[str | bytes], workspace: str,
           token: str) -> int | None:
    """The ticket number ``token`` names in ``workspace``, or None when it is not ours.

    ``keys``: one key, or several (a rotation, newest first: ``config.signing.signing_keys()``);
    a token signed with any of them verifies. Every key is tried, so the time taken does not
    tell which one matched."""
    keys = (keys,) if isinstance(keys, (str, bytes)) else tuple(keys)
    if not keys:
        raise ValueError("no signing key to verify with")
    token = (token or "").strip()
    if len(token) != TOKEN_CHARS:
        return None
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    except (binascii.Error, ValueError):
        return None
    if _encode(raw) != token.lower():  # the last character's unused bits must be zero
        return None
    payload, mac = raw[:PAYLOAD.size], raw[PAYLOAD.size:]
    matches = [hmac.compare_digest(mac, _mac(key, workspace, payload)) for key in keys]
    if not any(matches):
        return None
    version, number = PAYLOAD.unpack(payload)
    return number if version == VERSION else None


def _mac(key: str | bytes, workspace: str, payload: bytes) -> bytes:
    if not key:
        raise ValueError("the signing key is empty")
    key_bytes = key.encode("utf-8") if isinstance(key, str) else key
    message = b"ticketgate-token|" + workspace.encode("utf-8") + b"|" + payload
    return hmac.new(key_bytes, message, hashlib.sha256).digest()[:MAC_BYTES]


# --- where tokens go ---------------------------------------------------------------------------

def message_id(token: str, domain: str) -> str:
    """Our Message-ID (with brackets) for a mail about the token's ticket."""
    return f"<tg.{token}.{secrets.token_urlsafe(9)}@{domain}>"


def token_of_message_id(value: str) -> str:
    """The token inside one of our Message-IDs (with or without brackets), or ''."""
    match = _OWN_MESSAGE_ID.match(value.strip().strip("<>"))
    return match.group(1).lower() if match else ""


def reply_address(sender: str, token: str) -> str:
    """``support+<token>@domain`` for the workspace's sender ``support@domain``."""
    local, _, domain = sender.rpartition("@")
    return f"{local.split('+', 1)[0]}+{token}@{domain}"


def text_marker(token: str) -> str:
    return f"[tg:{token}]"


def html_marker(token: str) -> str:
    return f"<!-- tg:{token} -->"
