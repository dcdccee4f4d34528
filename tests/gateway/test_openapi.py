"""The OpenAPI document: valid JSON, every implemented path of docs/api.md, real routes."""
from __future__ import annotations

import json
import re

import pytest

from gateway.web import create_app

# Paths of docs/api.md that every document lists (the others: tests/api_fuzz/test_schemathesis.py).
IMPLEMENTED = {
    "/api/v1/tickets": "get", "/api/v1/tickets/{number}": "get",
    "/api/v1/tickets/{number}/events": "get",
    "/api/v1/quarantine": "get", "/api/v1/quarantine/{id}/replay": "post",
    "/api/v1/openapi.json": "get", "/healthz": "get", "/readyz": "get", "/metrics": "get",
}


@pytest.fixture
def app(sqlite_runtime):
    return create_app(sqlite_runtime)


@pytest.fixture
def document(app) -> dict:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def test_document_is_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"]


def test_document_lists_every_implemented_path(document):
    for path, method in IMPLEMENTED.items():
        assert method in document["paths"][path], path


def test_document_stands_on_its_own(app):
    text = app.test_client().get("/api/v1/openapi.json").get_data(as_text=True)
    assert "PRODUCT.md" not in text and "STYLE.md" not in text


def test_every_documented_path_is_a_route_and_back(app, document):
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint.rpartition(".")[2] != "static"  # asset files
              and not rule.rule.startswith("/ops")}  # the ops dashboard: a UI, docs/ops.md
    routes = {re.sub(r"\{entry_id\}", "{id}", r) for r in routes}
    assert routes == set(document["paths"])


def test_document_declares_bearer_security(document):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]


def test_document_has_ticket_message_entry_and_error_schemas(document):
    schemas = document["components"]["schemas"]
    assert {"Ticket", "Message", "Entry", "Error"} <= set(schemas)
    assert "follow_up_of" in schemas["Ticket"]["properties"]
    assert "reply_text" in schemas["Message"]["properties"]


def test_every_reference_resolves(document):
    text = json.dumps(document)
    for name in re.findall(r'"#/components/schemas/(\w+)"', text):
        assert name in document["components"]["schemas"]


def test_document_is_served_without_a_key(app):
    assert app.test_client().get("/api/v1/openapi.json").status_code == 200
