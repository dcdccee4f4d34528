"""The OpenAPI 3.1 document, served at ``GET /api/v1/openapi.json``: generated, not written.

Paths come from the app's routes (``/api/v1/tickets/<int:number>`` is
``/api/v1/tickets/{number}``), each operation from its ``gateway.api.spec`` record, and every
schema from pydantic: path, query and header parameters from their models, request bodies and
answers through ``TypeAdapter.json_schemas`` (named models become
``#/components/schemas/<Name>``; request bodies are shown in place). JSON Schema 2020-12, which pydantic writes, is OpenAPI 3.1's
own dialect, so nothing is converted. A documented path parameter that its route lacks (or the
other way round) stops the build: the document cannot drift from the routes.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from gateway.api import edge_docs, spec
from gateway.api.schemas import Error

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"  # version of this document's contract, not of the software
CACHE = "ticketgate.openapi"  # app.extensions key of the built document
REF = "#/components/schemas/{model}"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")  # <int:number> -> number
INFO = {"title": "ticketgate REST API", "version": API_VERSION,
        "description": "Tickets, agent actions, agents and offers, customers and quarantine of "
                       "one workspace (the API key's), and the inbound edges (each with its own "
                       "authentication)."}


class _Generator(GenerateJsonSchema):
    """pydantic's JSON Schema without a title per field nor a ``null`` default."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def default_schema(self, schema):
        generated = super().default_schema(schema)
        if generated.get("default", "") in (None, ""):
            generated.pop("default", None)
        return generated


def document(app: Flask) -> dict:
    """The app's document, built once."""
    if CACHE not in app.extensions:
        app.extensions[CACHE] = build(app)
    return app.extensions[CACHE]


def build(app: Flask) -> dict:
    edge_docs.register()
    found = list(operations(app))
    shapes = _Shapes(found)
    paths: dict[str, dict] = {}
    for path, rule, method, record in found:
        paths.setdefault(path, {})[method] = render(record, rule, shapes)
    return {"openapi": OPENAPI_VERSION, "info": INFO, "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}], "paths": paths,
            "components": {"schemas": shapes.referenced(paths), "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "the workspace's API key"}}}}


def operations(app: Flask):
    """``(path, rule, method, Operation)`` of every documented route."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - SKIPPED_METHODS):
            record = spec.operation_of(rule.endpoint, rule.rule, view, method)
            if record is not None:
                yield _ARGUMENT.sub(r"{\1}", rule.rule), rule, method.lower(), record


class _Shapes:
    """The JSON Schema of every body and answer type, generated together so that each named
    model is one component that the operations refer to."""

    def __init__(self, found: list):
        inputs = {}
        for *_, record in found:
            for shape in record.body.values():
                inputs[(shape, "validation")] = shape
            for answer in [*record.answers.values(), *errors(record).values()]:
                for shape in answer.content.values():
                    inputs[(shape, "serialization")] = shape
        schemas, definitions = TypeAdapter.json_schemas(
            [(key, key[1], TypeAdapter(shape)) for key, shape in inputs.items()],
            ref_template=REF, schema_generator=_Generator)
        self.schemas = schemas
        self.components = definitions.get("$defs", {})

    def of(self, shape: Any, mode: str) -> dict:
        return self.schemas[((shape, mode), mode)]

    def inline(self, shape: Any, mode: str) -> dict:
        """The schema itself, not a reference (request bodies are shown in place)."""
        schema = self.of(shape, mode)
        name = schema.get("$ref", "").rpartition("/")[2]
        return dict(self.components[name]) if name else schema

    def referenced(self, document: dict) -> dict:
        """The components something in ``document`` refers to (directly or through others)."""
        kept: dict[str, dict] = {}
        text = json.dumps(document)
        while True:
            found = {name: schema for name, schema in self.components.items()
                     if name not in kept and f'"{REF.format(model=name)}"' in text}
            if not found:
                return dict(sorted(kept.items()))
            kept |= found
            text = json.dumps(found)


def errors(record: spec.Operation) -> dict[int, spec.Reply]:
    return {status: spec.reply(spec.ERRORS[status], Error) for status in record.errors}


def render(record: spec.Operation, rule, shapes: _Shapes) -> dict:
    answers = {**record.answers, **errors(record)}
    rendered: dict[str, Any] = {
        "summary": record.summary,
        "parameters": parameters(record, rule),
        "responses": {str(status): _answer(answer, shapes)
                      for status, answer in sorted(answers.items())}}
    if record.description:
        rendered["description"] = record.description
    if record.body:
        rendered["requestBody"] = {"required": True, "content": {
            media: {"schema": shapes.inline(shape, "validation")}
            for media, shape in record.body.items()}}
    if record.public:
        rendered["security"] = []
    return rendered


def _answer(answer: spec.Reply, shapes: _Shapes) -> dict:
    rendered: dict[str, Any] = {"description": answer.description}
    if answer.content:
        rendered["content"] = {media: {"schema": shapes.of(shape, "serialization")}
                               for media, shape in answer.content.items()}
    return rendered


def parameters(record: spec.Operation, rule) -> list[dict]:
    documented = set(_fields(record.path))
    if documented != set(rule.arguments):
        raise ValueError(f"{rule.rule}: path parameters {sorted(rule.arguments)} documented "
                         f"as {sorted(documented)}")
    return [*_parameters(record.path, "path"), *_parameters(record.query, "query"),
            *_parameters(record.headers, "header")]


def _fields(model: type[BaseModel] | None) -> dict:
    if model is None:
        return {}
    return model.model_json_schema(schema_generator=_Generator)["properties"]


def _parameters(model: type[BaseModel] | None, where: str) -> list[dict]:
    if model is None:
        return []
    schema = model.model_json_schema(schema_generator=_Generator)
    required = set(schema.get("required", ()))
    listed = []
    for name, field in schema["properties"].items():
        field = dict(field)
        listed.append({"name": name, "in": where, "required": where == "path" or name in required,
                       "description": field.pop("description", ""), "schema": field})
    return listed
