"""JSON errors for the web process: every failure answers ``{"error": {code, message, fields}}``.

``ApiError`` is what views raise for bad input (400 with per-field messages), a missing key
(401), or something the key may not see (404). HTTP errors raised by Flask itself (unknown route,
wrong method, body too large) get the same shape. A database or Redis outage is a 503 with
``Retry-After`` so clients retry; anything else is a 500 that is logged but never shows a
traceback to the client.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DisconnectionError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
RETRY_AFTER_S = 30  # seconds a client should wait before retrying while a dependency is down
UNAVAILABLE = (OperationalError, DisconnectionError, RedisConnectionError, RedisTimeoutError)
# Codes of the HTTP errors Flask raises on its own (404 unknown route, 405 wrong method, ...).
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
              429: "too_many_requests"}


class ApiError(Exception):
    """An error answered as JSON with ``status``; ``fields`` maps a parameter to its problem."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 headers: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = fields or {}, headers or {}
        self.extra = extra or {}  # more members of the error object (e.g. ticket_changed's)


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None, extra: dict | None = None):
    body = {"error": {**(extra or {}), "code": code, "message": message,
                      "fields": fields or {}}}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def bad_request(fields: dict[str, str]) -> ApiError:
    """A 400 naming every invalid parameter."""
    return ApiError(400, "invalid_parameters", "some parameters are invalid", fields)


def _api_error(exc: ApiError):
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return error_response(exc.status, exc.code, exc.message, exc.fields,
                          {**headers, **exc.headers}, exc.extra)


def _http_error(exc: HTTPException):
    status = exc.code or 500
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    return error_response(status, HTTP_CODES.get(status, "http_error"),
                          exc.description or exc.name, headers=headers)


def _unavailable(exc: Exception):
    log.warning("dependency unavailable: %s", exc.__class__.__name__)
    return error_response(503, "unavailable", "a backing service is unavailable, retry later",
                          headers={"Retry-After": str(RETRY_AFTER_S)})


def _internal(exc: Exception):
    log.exception("unhandled error")
    return error_response(500, "internal_error", "internal error")


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    for exc_class in UNAVAILABLE:
        app.register_error_handler(exc_class, _unavailable)
    app.register_error_handler(Exception, _internal)
