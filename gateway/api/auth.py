"""Bearer API-key authentication: ``Authorization: Bearer <key>`` -> the key's workspace slug.

Keys are known only as SHA-256 hashes (``Config.api_key_index``), computed once per app. The
presented key is hashed and compared with every known hash in constant time, so neither the
answer time nor an early exit tells anything about the stored keys.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, request

from gateway.errors import ApiError
from gateway.app_runtime import runtime

INDEX_EXTENSION = "ticketgate.api_keys"  # app.extensions key of the hash -> slug index
SCHEME = "bearer"                        # the only scheme accepted (case-insensitive, RFC 7235)


def key_index(app: Flask) -> dict[str, str]:
    """The app's SHA-256 hash -> workspace slug index, built on first use."""
    if INDEX_EXTENSION not in app.extensions:
        app.extensions[INDEX_EXTENSION] = runtime(app).config.api_key_index()
    return app.extensions[INDEX_EXTENSION]


def presented_key() -> str:
    """The key of the request's Authorization header; 401 when it is missing or malformed."""
    scheme, _, key = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != SCHEME or not key.strip():
        raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>'")
    return key.strip()


def workspace_for_key(index: dict[str, str], key: str) -> str | None:
    digest = hashlib.sha256(key.encode()).hexdigest()
    found = None
    for known, slug in index.items():  # no early exit: the loop time does not depend on a match
        if hmac.compare_digest(known, digest):
            found = slug
    return found


def authenticate() -> str:
    """The workspace slug the request's key belongs to; 401 otherwise."""
    slug = workspace_for_key(key_index(current_app), presented_key())
    if slug is None:
        raise ApiError(401, "unauthorized", "invalid API key")
    return slug
