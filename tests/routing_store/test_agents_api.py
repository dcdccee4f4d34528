"""Agents over the REST API: seeded from the workspace file, PUT/GET round trip, validation,
read-only load, workspace isolation."""
import pytest

from gateway.web import create_app
from tests.gateway.apifactory import auth
from tests.routing_store.helpers import get_agent, put_agent, routed_ticket

CAROL = {"name": "Carol", "email": "carol@demo.test", "skills": {"lang:cs": 5, "billing": 2},
         "capacity": {"email": 3, "chat": 1}, "status": "away", "departments": ["finance"],
         "total": 4, "calendar": "office"}


def test_list_shows_the_seeded_agents_with_their_load(rt_client):
    rt, client = rt_client
    routed_ticket(rt, skills={"billing": 2})
    response = client.get("/api/v1/agents", headers=auth())
    assert response.status_code == 200
    agents = {a["id"]: a for a in response.get_json()["agents"]}
    assert sorted(agents) == ["alice", "bob"]
    alice = agents["alice"]
    assert (alice["name"], alice["email"], alice["skills"]) == ("Alice", "alice@demo.test",
                                                                {"billing": 3})
    assert alice["load"] == {"email": 1, "chat": 0} and alice["last_assigned_at"]
    assert agents["bob"]["load"] == {"email": 0} and agents["bob"]["last_assigned_at"] is None


def test_put_creates_then_replaces_and_get_returns_it(client):
    created = put_agent(client, "carol", CAROL)
    assert created.status_code == 201
    body = get_agent(client, "carol").get_json()
    assert body == created.get_json()
    assert {k: body[k] for k in CAROL} == {**CAROL, "departments": ["finance"], "total": 4.0}
    assert body["id"] == "carol" and body["load"] == {"email": 0, "chat": 0}
    replaced = put_agent(client, "carol", {"capacity": {"email": 1}, "status": "online"})
    assert replaced.status_code == 200
    again = replaced.get_json()
    assert (again["skills"], again["capacity"], again["name"]) == ({}, {"email": 1}, "")


def test_a_get_body_can_be_put_back_unchanged(client):
    body = get_agent(client, "alice").get_json()
    response = put_agent(client, "alice", body)
    assert response.status_code == 200 and response.get_json() == body


def test_seeds_never_overwrite_what_the_api_stored(runtime, client):
    assert put_agent(client, "alice", {"status": "offline"}).status_code == 200
    fresh = create_app(runtime).test_client()  # another process: seeds again
    assert get_agent(fresh, "alice").get_json()["status"] == "offline"
    assert get_agent(fresh, "bob").get_json()["status"] == "online"


def test_load_in_a_put_is_ignored(client):
    response = put_agent(client, "bob", {"capacity": {"email": 1}, "load": {"email": 7},
                                         "status": "online"})
    assert response.status_code == 200 and response.get_json()["load"] == {"email": 0}


@pytest.mark.parametrize("body, field", [
    ({"skills": {"billing": 6}}, "skills"),
    ({"skills": {"billing": 0}}, "skills"),
    ({"skills": {"billing": "high"}}, "skills.billing"),
    ({"skills": {"": 2}}, "skills"),
    ({"capacity": {"email": -1}}, "capacity"),
    ({"capacity": {"fax": 1}}, "capacity"),
    ({"capacity": {"email": 10**9}}, "capacity"),
    ({"capacity": ["email"]}, "capacity"),
    ({"status": "busy"}, "status"),
    ({"calendar": "night-shift"}, "calendar"),
    ({"total": -1}, "total"),
    ({"name": "x" * 301}, "name"),
    ({"email": "not an address"}, "email"), ({"email": "a\x00@b.test"}, "email"),
    ({"name": "nul\x00byte"}, "name"), ({"departments": ["a\x00"]}, "departments"),
    ({"skills": {"lang\x00": 2}}, "skills"),
    ({"departments": "finance"}, "departments"),
    ({"id": "someone-else"}, "id"),
    ({"colour": "blue"}, "colour"),
])
def test_invalid_agent_is_400_naming_the_field(client, body, field):
    response = put_agent(client, "carol", body)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameters" and field in error["fields"]
    assert get_agent(client, "carol").status_code == 404


@pytest.mark.parametrize("data", ["[]", "not json", '"text"'])
def test_body_that_is_no_json_object_is_400(client, data):
    response = client.put("/api/v1/agents/carol", data=data, headers=auth(),
                          content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


def test_invalid_agent_id_in_the_path(client):
    assert put_agent(client, "-carol", CAROL).get_json()["error"]["fields"] == {
        "id": "1-100 letters, digits and . _ @ -, starting with a letter or digit"}
    assert get_agent(client, "-carol").status_code == 404
    assert get_agent(client, "x" * 101).status_code == 404


def test_unknown_agent_is_404(client):
    response = get_agent(client, "nobody")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_agents_need_a_key(client):
    assert client.get("/api/v1/agents").status_code == 401
    assert client.put("/api/v1/agents/carol", json=CAROL).status_code == 401


def test_another_workspace_sees_none_of_them(client):
    assert client.get("/api/v1/agents", headers=auth("acme")).get_json() == {"agents": []}
    assert get_agent(client, "alice", slug="acme").status_code == 404
    assert put_agent(client, "alice", {"status": "away"}, slug="acme").status_code == 201
    assert get_agent(client, "alice").get_json()["status"] == "online"
    assert get_agent(client, "alice", slug="acme").get_json()["status"] == "away"
