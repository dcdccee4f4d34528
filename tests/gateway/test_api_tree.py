"""The REST API is one blueprint tree that authenticates once, and its OpenAPI document is
generated from the models that validate the requests (gateway.api.root, spec, openapi)."""
from __future__ import annotations

import pytest
from flask import Blueprint, Flask
from pydantic import BaseModel

from gateway.api import auth, openapi
from gateway.api.requests import ApiRequest
from gateway.api.spec import operation, reply
from gateway.web import create_app
from tests.gateway.apifactory import auth as bearer


@pytest.fixture
def app(sqlite_runtime, api_keys):
    return create_app(sqlite_runtime)


def test_every_api_route_is_a_child_of_the_one_authenticating_blueprint(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            assert rule.endpoint.startswith("api."), rule.rule
            assert rule.endpoint.count(".") == (1 if rule.rule.endswith("openapi.json") else 2)


def test_a_request_is_authenticated_once(app, monkeypatch):
    calls = []
    real = auth.authenticate
    monkeypatch.setattr(auth, "authenticate", lambda: calls.append(1) or real())
    for path in ("/api/v1/tickets", "/api/v1/agents", "/api/v1/customers", "/api/v1/quarantine"):
        calls.clear()
        assert app.test_client().get(path, headers=bearer()).status_code == 200, path
        assert calls == [1], path


def test_every_request_body_of_the_api_is_a_strict_model(app):
    for path, item in openapi.document(app)["paths"].items():
        for method, op in item.items():
            if path.startswith("/api/v1/") and "requestBody" in op:
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                assert schema["additionalProperties"] is False, (method, path)


def test_the_documented_body_is_the_validating_models_schema(app):
    from gateway.api.patch import TicketPatch
    op = openapi.document(app)["paths"]["/api/v1/tickets/{number}"]["patch"]
    documented = op["requestBody"]["content"]["application/json"]["schema"]
    tags = TicketPatch.model_json_schema()["properties"]["tags"]
    assert documented["properties"]["tags"]["items"]["pattern"] == tags["items"]["pattern"]
    assert issubclass(TicketPatch, ApiRequest)


class WrongPath(BaseModel):
    id: int


def test_a_path_parameter_the_route_lacks_stops_the_document():
    app = Flask(__name__)
    bp = Blueprint("x", __name__)

    @bp.get("/things/<int:number>")
    @operation("A thing", {200: reply("It", dict)}, path=WrongPath)
    def thing(number: int):
        return {}

    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="number"):
        openapi.build(app)


def test_only_the_operations_documented_public_answer_without_a_key(app):
    client = app.test_client()
    for path, item in openapi.document(app)["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        url = path.replace("{number}", "1").replace("{id}", "1")
        for method, op in item.items():
            status = getattr(client, method)(url).status_code
            assert (status != 401) == (op.get("security") == []), (method, path, status)
