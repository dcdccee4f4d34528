"""Who may use the ops dashboard (``/ops``) and the RQ pages mounted under it (``/ops/rq``).

- ``OPS_TOKEN`` unset: every ``/ops`` path answers 404, as if the dashboard did not exist.
- Set: a request gets in with ``Authorization: Bearer <OPS_TOKEN>`` or with the session cookie
  that the login form (``/ops/login``) sets after the token was typed. Both compare in constant
  time. The cookie is ``Secure``, ``HttpOnly``, ``SameSite=Strict``, scoped to ``/ops``, signed
  with a key derived from the token (changing ``OPS_TOKEN`` logs everybody out) and expires
  after ``SESSION_MAX_AGE_S``. Without either, a browser asking for a page is sent to the login
  form and anything else gets a JSON 401.
- A state-changing request with the cookie must come from this site: its ``Origin`` (or
  ``Sec-Fetch-Site``) must say so, and the dashboard's own forms must also carry the session's
  CSRF token. A bearer request needs neither (no browser adds that header by itself).
- Login attempts are rate-limited per client address (``LOGIN_ATTEMPTS`` per minute).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from gateway.errors import ApiError
from gateway.app_runtime import runtime

COOKIE = "tg_ops"
COOKIE_PATH = "/ops"
SESSION_MAX_AGE_S = 12 * 3600  # a login lasts a working day
LOGIN_ATTEMPTS = 10  # per client address and minute; more get 429
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"


def ops_token() -> str:
    return runtime().settings.ops_token


def _serializer(token: str) -> URLSafeTimedSerializer:
    key = hmac.new(token.encode(), b"ticketgate ops session", hashlib.sha256).digest()
    return URLSafeTimedSerializer(key, salt="ticketgate.ops")


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def new_session(token: str) -> str:
    """A signed cookie value holding a fresh CSRF token."""
    return _serializer(token).dumps({"csrf": secrets.token_urlsafe(24)})


def set_session_cookie(response, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=SESSION_MAX_AGE_S, path=COOKIE_PATH,
                        secure=True, httponly=True, samesite="Strict")


def clear_session_cookie(response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=True, httponly=True,
                           samesite="Strict")


def _session(token: str) -> dict | None:
    value = request.cookies.get(COOKIE, "")
    try:
        data = _serializer(token).loads(value, max_age=SESSION_MAX_AGE_S) if value else None
    except BadSignature:  # also expired (SignatureExpired is a BadSignature)
        return None
    return data if isinstance(data, dict) and isinstance(data.get("csrf"), str) else None


def _bearer_ok(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    return scheme.lower() == "bearer" and token_matches(given.strip(), token)


def require_enabled() -> str:
    """The token; 404 when the dashboard is off."""
    token = ops_token()
    if not token:
        abort(404)
    return token


def require_login(forms_carry_csrf: bool):
    """Let the request in (setting ``g.ops_via`` and ``g.ops_csrf``) or answer it."""
    token = require_enabled()
    if _bearer_ok(token):
        g.ops_via, g.ops_csrf = "bearer", ""
        return None
    session = _session(token)
    if session is None:
        return _unauthenticated()
    g.ops_via, g.ops_csrf = "cookie", session["csrf"]
    if request.method not in SAFE_METHODS:
        require_same_origin(strict=True)
        if forms_carry_csrf and not token_matches(request.form.get(CSRF_FIELD, ""),
                                                  session["csrf"]):
            raise ApiError(403, "csrf", "the form's CSRF token is missing or wrong: reload /ops")
    return None


def require_same_origin(strict: bool) -> None:
    """403 for a cross-site request; with ``strict`` also for one that does not say where it
    comes from (browsers send ``Origin`` or ``Sec-Fetch-Site`` with every POST). An ``Origin``
    of ``null`` (sent under some referrer policies) leaves the decision to ``Sec-Fetch-Site``."""
    origin = request.headers.get("Origin", "")
    site = request.headers.get("Sec-Fetch-Site", "")
    if origin and origin != "null":
        allowed = urlsplit(origin).netloc == request.host
    elif site:
        allowed = site in ("same-origin", "none")
    else:
        allowed = not strict
    if not allowed:
        raise ApiError(403, "cross_site", "this request must come from the ops dashboard itself")


def _unauthenticated():
    if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        return redirect(url_for("ops.login"))
    raise ApiError(401, "unauthorized",
                   "log in at /ops/login or send 'Authorization: Bearer <OPS_TOKEN>'")
