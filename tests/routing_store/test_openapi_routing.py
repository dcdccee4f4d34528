"""The OpenAPI document describes the agent endpoints and the ticket PATCH as served."""
from tests.routing_store.helpers import get_agent


def test_agent_paths_and_patch_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/agents"]) == {"get"}
    assert set(paths["/api/v1/agents/{id}"]) == {"get", "put"}
    assert set(paths["/api/v1/tickets/{number}"]) == {"get", "patch"}
    patch = paths["/api/v1/tickets/{number}"]["patch"]
    fields = patch["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert set(fields) == {"status", "priority", "assignee", "tags", "author"}
    assert {"400", "404", "409"} <= set(patch["responses"])


def test_agent_schema_names_every_field_served(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Agent"]
    assert set(schema["properties"]) == set(get_agent(client, "alice").get_json())
