"""The OpenAPI registry: what each operation takes and answers, as pydantic models.

A REST API view is marked with ``@operation(...)`` (summary, path-, query- and header-parameter
models, body model, answers); views this package does not own (health, the inbound edges) are
described by endpoint name with ``describe(endpoint, method, Operation(...))``. The document
(``gateway.api.openapi``) is built from the app's routes and these records, and every schema in
it is the JSON Schema pydantic generates from the models: the request bodies of the REST API
are validated by those same models (``gateway.api.requests``), so the document and the
validation cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel

JSON = "application/json"
# Descriptions of the JSON error answers an operation lists by status alone.
ERRORS = {400: "Invalid parameters (see `fields`)", 401: "Missing or invalid API key",
          404: "Not found (or another workspace's)", 409: "Conflicts with the current state",
          503: "Database or Redis unavailable; retry after `Retry-After` seconds"}
API_ERRORS = (401, 503)  # what every REST API operation may answer


@dataclass(frozen=True)
class Reply:
    """One answer: its description and its content, a type per media type (none: no body)."""
    description: str
    content: dict[str, Any] = field(default_factory=dict)


def reply(description: str, shape: Any = None, media: str = JSON) -> Reply:
    return Reply(description, {} if shape is None else {media: shape})


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: dict[int, Reply]
    errors: tuple[int, ...] = API_ERRORS          # JSON errors, described by ``ERRORS``
    path: type[BaseModel] | None = None           # one field per path parameter
    query: type[BaseModel] | None = None          # one field per query parameter
    headers: type[BaseModel] | None = None        # one field per header (its alias the name)
    body: dict[str, Any] = field(default_factory=dict)  # media type -> type of the body
    description: str = ""
    public: bool = False                          # no API key (``security: []``)


def operation(summary: str, answers: dict[int, Reply], *, body: Any = None,
              **details) -> Callable:
    """Decorator of a view: records its ``Operation`` on it (``view.openapi``); ``body`` is
    the JSON body's model."""
    record = Operation(summary, answers, body={JSON: body} if body is not None else {},
                       **details)

    def mark(view: Callable) -> Callable:
        view.openapi = record
        return view
    return mark


# Operations of views outside the REST API package: (endpoint, method, rule or None) -> record.
DESCRIBED: dict[tuple[str, str, str | None], Operation] = {}


def describe(endpoint: str, method: str, record: Operation, rule: str | None = None) -> None:
    """Document ``method`` of ``endpoint`` (of its route ``rule`` only, when given: an endpoint
    may serve several routes)."""
    DESCRIBED[(endpoint, method.lower(), rule)] = record


def operation_of(endpoint: str, rule: str, view: Callable, method: str) -> Operation | None:
    marked = getattr(view, "openapi", None)
    if marked is not None:
        return marked
    method = method.lower()
    return DESCRIBED.get((endpoint, method, rule)) or DESCRIBED.get((endpoint, method, None))
