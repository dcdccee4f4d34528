"""The REST API's customers, on SQLite and PostgreSQL: listing, search, tag filter, pagination,
workspace isolation, PATCH of tags and name with its validation, and routing reading the tags
set through the API for the customer's next message."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from config.workspaces import parse_config
from gateway.web import create_app
from store import repo
from store.models import Customer, Ticket
from tests.conftest import TEST_CONFIG
from tests.gateway.apifactory import add_customer, add_ticket, auth, get
from tests.workers.events import mail_event
from workers.ingest.job import store_event

CUSTOMER_KEYS = {"id", "name", "email", "identities", "tags", "ticket_count", "created_at"}


def add(runtime, slug: str = "demo", name: str = "Jane", email: str = "jane@example.com",
        tags: tuple[str, ...] = ()) -> int:
    with runtime.sessions.begin() as session:
        customer = add_customer(session, slug, name, email)
        customer.tags = list(tags)
        return customer.id


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [c["name"] for c in response.get_json()["customers"]]


def patch(client, customer_id: int, body, slug: str = "demo"):
    return client.patch(f"/api/v1/customers/{customer_id}", json=body, headers=auth(slug))


def stored_tags(runtime, customer_id: int) -> list[str]:
    with runtime.sessions.begin() as session:
        return session.get(Customer, customer_id).tags


# --- reading ---

def test_customer_has_the_ticket_customer_fields_plus_tags_count_and_created_at(client, runtime):
    with runtime.sessions.begin() as session:
        jane = add_customer(session, "demo", "Jane", "jane@example.com")
        repo.add_identity(session, jane, "phone", "+420777123456")
        jane.tags = ["vip"]
        for status in ("new", "closed", "deleted"):
            add_ticket(session, customer_id=jane.id, status=status)
        jane_id = jane.id
    body = get(client, f"/api/v1/customers/{jane_id}").get_json()
    assert set(body) == CUSTOMER_KEYS
    assert (body["id"], body["name"], body["email"], body["tags"]) == (
        jane_id, "Jane", "jane@example.com", ["vip"])
    assert body["identities"] == [
        {"kind": "email", "value": "jane@example.com", "bouncing": False, "verified": True},
        {"kind": "phone", "value": "+420777123456", "bouncing": False, "verified": True}]
    assert body["ticket_count"] == 2  # the deleted ticket is not counted
    assert body["created_at"].endswith("Z")
    ticket = get(client, "/api/v1/tickets/1").get_json()
    assert ticket["customer"] == {k: body[k] for k in ticket["customer"]}


def test_list_is_newest_first_and_only_of_the_keys_workspace(client, runtime):
    add(runtime, name="Jane")
    add(runtime, name="Joe", email="joe@example.com")
    add(runtime, "acme", name="Ann", email="ann@example.com")
    response = get(client, "/api/v1/customers")
    assert names(response) == ["Joe", "Jane"]
    assert response.get_json()["next_cursor"] is None
    assert response.get_json()["customers"][0]["ticket_count"] == 0
    assert names(get(client, "/api/v1/customers", "acme")) == ["Ann"]


def test_q_matches_name_or_identity_value_case_insensitively(client, runtime):
    add(runtime, name="Jane Doe", email="jane@example.com")
    add(runtime, name="Bob", email="bob@shop.test")
    with runtime.sessions.begin() as session:
        carl = add_customer(session, "demo", "Carl", "carl@example.com")
        repo.add_identity(session, carl, "phone", "+420777123456")
    add(runtime, "acme", name="Jane Acme", email="jane@acme.test")
    assert names(get(client, "/api/v1/customers?q=DOE")) == ["Jane Doe"]
    assert names(get(client, "/api/v1/customers?q=SHOP.Test")) == ["Bob"]
    assert names(get(client, "/api/v1/customers?q=777123")) == ["Carl"]
    assert names(get(client, "/api/v1/customers?q=example.com")) == ["Carl", "Jane Doe"]
    assert names(get(client, "/api/v1/customers?q=%25")) == []  # wildcards are literal
    assert names(get(client, "/api/v1/customers?q=_")) == []


def test_tag_filter_matches_exact_tags_and_combines_with_q(client, runtime):
    add(runtime, name="Jane", tags=("vip", "eu"))
    add(runtime, name="Joe", email="joe@example.com", tags=("vipx",))
    add(runtime, name="Jim", email="jim@other.test", tags=("eu",))
    add(runtime, "acme", name="Ann", email="ann@example.com", tags=("vip",))
    assert names(get(client, "/api/v1/customers?tag=vip")) == ["Jane"]
    assert names(get(client, "/api/v1/customers?tag=eu")) == ["Jim", "Jane"]
    assert names(get(client, "/api/v1/customers?tag=eu&q=other")) == ["Jim"]
    assert names(get(client, "/api/v1/customers?tag=VIP")) == []
    assert names(get(client, "/api/v1/customers?tag=vip", "acme")) == ["Ann"]


def test_pagination_round_trip(client, runtime):
    for n in range(7):
        add(runtime, name=f"C{n}", email=f"c{n}@example.com")
    pages, cursor = [], None
    while True:
        url = "/api/v1/customers?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = get(client, url).get_json()
        pages.append([c["name"] for c in body["customers"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [["C6", "C5", "C4"], ["C3", "C2", "C1"], ["C0"]]


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"),
    ("cursor=garbage", "cursor"), ("cursor=dDE", "cursor"),  # a ticket list cursor
    ("q=" + "x" * 501, "q"), ("tag=%00", "tag")])
def test_bad_list_parameters_are_400s_naming_them(client, runtime, query, field):
    response = get(client, f"/api/v1/customers?{query}")
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


# --- isolation and 404s ---

def test_another_workspaces_customer_is_a_404_and_stays_unchanged(client, runtime):
    jane_id = add(runtime, tags=("keep",))
    assert get(client, f"/api/v1/customers/{jane_id}", "acme").status_code == 404
    response = patch(client, jane_id, {"tags": ["stolen"]}, "acme")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert stored_tags(runtime, jane_id) == ["keep"]


@pytest.mark.parametrize("path", ["/api/v1/customers/999", f"/api/v1/customers/{2**63}",
                                  f"/api/v1/customers/{2**70}", "/api/v1/customers/abc"])
def test_unknown_customers_are_404s(client, runtime, path):
    for response in (get(client, path), client.patch(path, json={"tags": []},
                                                     headers=auth())):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_a_key_is_required(client, runtime):
    jane_id = add(runtime)
    assert client.get("/api/v1/customers").status_code == 401
    assert client.patch(f"/api/v1/customers/{jane_id}", json={"tags": []}).status_code == 401
    assert stored_tags(runtime, jane_id) == []


# --- PATCH ---

def test_patch_replaces_tags_and_name(client, runtime):
    jane_id = add(runtime, tags=("old",))
    response = patch(client, jane_id, {"tags": [" vip ", "eu", "vip"], "name": " Jane D. "})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["tags"], body["name"], body["id"]) == (["vip", "eu"], "Jane D.", jane_id)
    assert set(body) == CUSTOMER_KEYS
    assert get(client, f"/api/v1/customers/{jane_id}").get_json() == body
    assert names(get(client, "/api/v1/customers?tag=eu")) == ["Jane D."]
    assert patch(client, jane_id, {"tags": []}).get_json()["tags"] == []
    assert stored_tags(runtime, jane_id) == []


@pytest.mark.parametrize("body, field", [
    ({"tags": "vip"}, "tags"), ({"tags": None}, "tags"), ({"tags": ["x"] * 51}, "tags"),
    ({"tags": ["x" * 51]}, "tags[0]"), ({"tags": ["ok", "bad\nline"]}, "tags[1]"),
    ({"tags": ["ok", "nul\x00"]}, "tags[1]"), ({"tags": ["  "]}, "tags[0]"),
    ({"tags": [5]}, "tags[0]"), ({"name": "x" * 301}, "name"), ({"name": "a\tb"}, "name"),
    ({"name": 5}, "name"), ({"color": "red"}, "color"), ({"tags": [], "email": "x"}, "email"),
    ({}, "body")])
def test_bad_patches_are_400s_naming_the_field_and_change_nothing(client, runtime, body, field):
    jane_id = add(runtime, tags=("keep",))
    response = patch(client, jane_id, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameters"
    assert field in error["fields"]
    assert stored_tags(runtime, jane_id) == ["keep"]


@pytest.mark.parametrize("data", ["{not json", "[\"vip\"]", "\"tags\"", ""])
def test_a_body_that_is_no_json_object_is_a_400(client, runtime, data):
    jane_id = add(runtime)
    response = client.patch(f"/api/v1/customers/{jane_id}", data=data,
                            headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


# --- routing reads the tags ---

ROUTING = {
    "rules": [{"name": "vip-desk", "match": {"customer_tags": ["vip"]},
               "then": {"tags": ["vip-desk"], "department": "vip"}}],
    "priority": {"vip_tags": ["vip"], "vip_priority": "urgent"},
}


@pytest.fixture
def routed(runtime, api_keys):
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = ROUTING
    runtime.config = parse_config(data)
    return runtime, create_app(runtime).test_client()


def ticket(rt, number: int) -> Ticket:
    with rt.sessions.begin() as session:
        row = session.scalar(select(Ticket).where(Ticket.number == number))
        session.expunge(row)
        return row


def test_tags_set_through_the_api_route_the_customers_next_messages(routed):
    rt, client = routed
    demo = rt.config.workspace("demo")
    assert store_event(rt, demo, mail_event("m1@x", subject="First")) == "created"
    first = ticket(rt, 1)
    assert (first.priority, first.tags, first.department) == ("medium", [], "")
    assert patch(client, first.customer_id, {"tags": ["vip"]}).status_code == 200

    assert store_event(rt, demo, mail_event("m2@x", subject="Second")) == "created"
    second = ticket(rt, 2)
    assert second.customer_id == first.customer_id
    assert (second.priority, second.tags, second.department) == ("urgent", ["vip-desk"], "vip")
    assert second.routing_reason["rules"] == ["vip-desk"]
    assert {"raiser": "vip", "tag": "vip", "priority": "urgent"} in (
        second.routing_reason["reasons"])

    store_event(rt, demo, mail_event("m3@x", subject="Re: First", in_reply_to=["m1@x"]))
    assert ticket(rt, 1).priority == "urgent"  # the raiser acts on an existing ticket too

    store_event(rt, demo, mail_event("m4@x", sender="other@customer.test", subject="Third"))
    other = ticket(rt, 3)
    assert (other.priority, other.tags) == ("medium", [])
    assert get(client, f"/api/v1/customers/{first.customer_id}").get_json()[
        "ticket_count"] == 2
