"""Presence on a ticket: agents viewing or typing, kept in Redis for 60 s after the latest
renewal; unknown agents and tickets are 404s, bad bodies 400s (SQLite and PostgreSQL)."""
import pytest

from gateway.web import create_app
from tickets import presence
from tests.outbound.conftest import auth, inbound, with_relay
from tests.outbound.mails import first_mail


@pytest.fixture
def rt(runtime, sink, api_keys):
    return with_relay(runtime, sink.url)


@pytest.fixture
def client(rt):
    client = create_app(rt).test_client()
    for key, name in (("ann", "Ann"), ("bob", "Bob")):
        assert client.put(f"/api/v1/agents/{key}", json={"name": name},
                          headers=auth()).status_code in (200, 201)
    return client


@pytest.fixture
def ticket(rt):
    assert inbound(rt, first_mail()) == "created"
    return 1


def post(client, body, number: int = 1, slug: str = "demo"):
    return client.post(f"/api/v1/tickets/{number}/presence", json=body, headers=auth(slug))


def test_agents_on_the_ticket_typing_first(client, ticket):
    assert client.get("/api/v1/tickets/1/presence", headers=auth()).get_json() == {
        "presence": []}
    assert post(client, {"agent": "ann", "state": "viewing"}).status_code == 200
    answer = post(client, {"agent": "bob", "state": "typing"}).get_json()["presence"]
    assert [(p["agent"], p["name"], p["state"]) for p in answer] == [
        ("bob", "Bob", "typing"), ("ann", "Ann", "viewing")]
    shown = client.get("/api/v1/tickets/1/presence", headers=auth()).get_json()["presence"]
    assert [p["agent"] for p in shown] == ["bob", "ann"]
    assert all(p["expires_at"] > p["since"] for p in shown)


def test_renewing_keeps_since_until_the_state_changes(rt, client, ticket):
    presence.renew(rt.redis, "demo", 1, "ann", "viewing", now=1000.0)
    presence.renew(rt.redis, "demo", 1, "ann", "viewing", now=1030.0)
    [entry] = presence.present(rt.redis, "demo", 1, now=1031.0)
    assert (entry.since, entry.expires_at) == (1000.0, 1090.0)
    presence.renew(rt.redis, "demo", 1, "ann", "typing", now=1040.0)
    [entry] = presence.present(rt.redis, "demo", 1, now=1041.0)
    assert (entry.state, entry.since) == ("typing", 1040.0)


def test_entries_expire_60_s_after_the_latest_renewal(rt, client, ticket):
    presence.renew(rt.redis, "demo", 1, "ann", "viewing", now=1000.0)
    presence.renew(rt.redis, "demo", 1, "bob", "typing", now=1030.0)
    assert [p.agent for p in presence.present(rt.redis, "demo", 1, now=1059.9)] == [
        "bob", "ann"]
    assert [p.agent for p in presence.present(rt.redis, "demo", 1, now=1060.0)] == ["bob"]
    assert presence.present(rt.redis, "demo", 1, now=1090.0) == []
    presence.renew(rt.redis, "demo", 1, "bob", "viewing", now=1100.0)  # ann's state goes
    entries, states = presence.keys("demo", 1)
    assert rt.redis.hkeys(states) == [b"bob"]
    assert 0 < rt.redis.ttl(entries) <= 60 and 0 < rt.redis.ttl(states) <= 60


def test_a_merged_tickets_presence_is_its_survivors(client, rt, ticket):
    assert inbound(rt, first_mail(subject="Another", sender="bob@customer.test")) == "created"
    assert post(client, {"agent": "ann", "state": "viewing"}, number=1).status_code == 200
    assert client.post("/api/v1/tickets/1/merge", json={"into": 2},
                       headers=auth()).status_code == 200
    assert post(client, {"agent": "bob", "state": "typing"}, number=1).status_code == 200
    on_survivor = client.get("/api/v1/tickets/2/presence", headers=auth()).get_json()
    on_merged = client.get("/api/v1/tickets/1/presence", headers=auth()).get_json()
    assert [p["agent"] for p in on_survivor["presence"]] == ["bob"]
    assert on_merged == on_survivor


def test_workspaces_do_not_see_each_other(client, rt, ticket):
    assert post(client, {"agent": "ann", "state": "viewing"}).status_code == 200
    assert client.get("/api/v1/tickets/1/presence", headers=auth("acme")).status_code == 404
    assert post(client, {"agent": "ann", "state": "viewing"}, slug="acme").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({}, "agent"), ({"agent": "ann"}, "state"), ({"agent": "ann", "state": "sleeping"}, "state"),
    ({"agent": "a b", "state": "typing"}, "agent"), ({"agent": 5, "state": "typing"}, "agent"),
    ({"agent": "ann", "state": "typing", "x": 1}, "x"),
])
def test_bad_bodies_are_400_naming_the_field(client, ticket, body, field):
    response = post(client, body)
    assert response.status_code == 400 and field in response.get_json()["error"]["fields"]


def test_unknown_agent_and_ticket_are_404(client, ticket):
    response = post(client, {"agent": "zed", "state": "viewing"})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "agent_not_found" and "agent" in error["fields"]
    assert post(client, {"agent": "ann", "state": "viewing"}, number=7).status_code == 404
    assert client.get("/api/v1/tickets/7/presence", headers=auth()).status_code == 404
