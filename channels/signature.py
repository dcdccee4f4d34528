"""Shared-secret signatures (pure): the hex HMAC-SHA256 that signs chat callbacks and outbound
webhooks and authenticates signed inbound webhooks, and constant-time comparisons."""
from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, message: bytes, signature: str) -> bool:
    """Constant-time comparison of a hex HMAC-SHA256 signature (case-insensitive)."""
    if not secret or not signature:
        return False
    expected = hmac_sha256_hex(secret, message)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode("ascii",
                                                                                   "replace"))


def secret_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of a shared secret (Telegram token, basic auth)."""
    if not expected:
        return False
    return hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "replace"))
