"""Replies made from canned responses (SQLite and PostgreSQL): rendered for the ticket, html
escaped and sanitized, usage counted once per reply (atomically), refusals."""
import copy
import threading

import pytest
from sqlalchemy import select

from config.workspaces import parse_config
from gateway.web import create_app
from store import repo
from store.models import Agent, CannedResponse, Message, Ticket
from tests.conftest import TEST_CONFIG
from tests.gateway.apifactory import add_customer, add_message, add_ticket, auth

CANNED = {"name": "Greeting", "text": "Hi {customer.name}, #{ticket.number} "
          "({ticket.subject}) is on its way. {agent.name} {{not a placeholder}}",
          "html": "<p>Hi <b>{customer.name}</b> &mdash; {agent.name}</p>"}


@pytest.fixture
def test_config():
    """The test workspaces; demo's file names agent bob, never seeded into the store here."""
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = {"agents": [{"id": "bob", "name": "Bob From File"}]}
    return parse_config(data)


@pytest.fixture(autouse=True)
def signing_key(monkeypatch, tmp_path):
    monkeypatch.setenv("TICKETGATE_SIGNING_KEY", "test-signing-key-0123456789")
    monkeypatch.setenv("TICKETGATE_VAR_DIR", str(tmp_path / "var"))


@pytest.fixture
def ticket(runtime):
    with runtime.sessions.begin() as session:
        customer = add_customer(session, "demo", "Carla <b>Customer</b>", "carla@customer.test")
        ticket = add_ticket(session, customer_id=customer.id, subject="Refund {agent.name}")
        add_message(session, ticket, "Where is my refund?", from_address="carla@customer.test")
        session.add(Agent(workspace_id=ticket.workspace_id, key="alice", name="Alice Agent"))
        return ticket.number


@pytest.fixture
def canned_id(client):
    response = client.post("/api/v1/canned", json=CANNED, headers=auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def reply(client, body, number=1, slug="demo", headers=None):
    return client.post(f"/api/v1/tickets/{number}/replies", json=body,
                       headers={**auth(slug), **(headers or {})})


def uses(client, canned_id) -> int:
    return client.get(f"/api/v1/canned/{canned_id}", headers=auth()).get_json()["uses"]


def test_reply_renders_the_canned_response_for_the_ticket(client, ticket, canned_id):
    response = reply(client, {"canned": canned_id, "author": "alice"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["text"] == ("Hi Carla <b>Customer</b>, #1 (Refund {agent.name}) is on its way. "
                            "Alice Agent {not a placeholder}")
    assert body["html"] == ("<p>Hi <b>Carla &lt;b&gt;Customer&lt;/b&gt;</b> \u2014 "
                            "Alice Agent</p>")
    assert body["author"] == "alice" and body["delivery"]["status"] == "queued"
    assert uses(client, canned_id) == 1


def test_an_author_who_is_no_agent_is_printed_as_given_and_none_as_empty(client, ticket):
    canned_id = client.post("/api/v1/canned", json={"name": "x", "text": "-- {agent.name}."},
                            headers=auth()).get_json()["id"]
    assert reply(client, {"canned": canned_id, "author": "Bob B."}).get_json()["text"] \
        == "-- Bob B.."
    assert reply(client, {"canned": canned_id}).get_json()["text"] == "-- ."


def test_an_agent_of_the_workspace_file_not_yet_in_the_store_is_named(client, ticket):
    canned_id = client.post("/api/v1/canned", json={"name": "x", "text": "-- {agent.name}"},
                            headers=auth()).get_json()["id"]
    assert reply(client, {"canned": canned_id, "author": "bob"}).get_json()["text"] \
        == "-- Bob From File"


def test_a_ticket_without_customer_renders_an_empty_name(runtime, client, canned_id):
    with runtime.sessions.begin() as session:
        add_ticket(session, subject="No one")
    assert reply(client, {"canned": canned_id}).get_json()["text"].startswith("Hi , #1 (No one)")


def test_every_reply_counts_and_a_retried_request_counts_once(client, ticket, canned_id):
    headers = {"Idempotency-Key": "req-1"}
    first = reply(client, {"canned": canned_id}, headers=headers).get_json()
    again = reply(client, {"canned": canned_id}, headers=headers).get_json()
    assert first["id"] == again["id"] and uses(client, canned_id) == 1
    assert reply(client, {"canned": canned_id}).status_code == 201
    assert uses(client, canned_id) == 2


def test_concurrent_replies_lose_no_count(runtime, api_keys, ticket, canned_id):
    app, answers = create_app(runtime), []

    def send():
        answers.append(reply(app.test_client(), {"canned": canned_id}).status_code)
    workers = [threading.Thread(target=send) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert answers == [201] * 6
    with runtime.sessions() as session:
        assert session.get(CannedResponse, canned_id).uses == 6


def test_another_workspaces_canned_response_is_a_404_and_nothing_is_sent(
        runtime, client, ticket):
    other = client.post("/api/v1/canned", json=CANNED, headers=auth("acme")).get_json()["id"]
    response = reply(client, {"canned": other})
    assert response.status_code == 404 and "canned" in response.get_json()["error"]["fields"]
    assert reply(client, {"canned": 10**6}).status_code == 404
    with runtime.sessions() as session:
        assert session.scalars(select(Message).where(Message.direction == "out")).all() == []
        assert session.scalar(select(Ticket)).status == "new"
    assert uses_of(runtime, other) == 0


def uses_of(runtime, canned_id) -> int:
    with runtime.sessions() as session:
        return session.get(CannedResponse, canned_id).uses


@pytest.mark.parametrize("body, field, problem", [
    ({"text": "Hi", "canned": 1}, "canned", "send text or canned, not both"),
    ({"canned": 1, "html": "<p>x</p>"}, "canned", "no html with canned"),
    ({}, "text", "required"), ({"canned": "1"}, "canned", "the id of a canned response"),
    ({"canned": 0}, "canned", "the id"), ({"canned": None}, "canned", "the id"),
    ({"canned": 2**63}, "body", "integers must lie")])
def test_bad_canned_bodies_are_a_400(client, ticket, canned_id, body, field, problem):
    response = reply(client, body)
    assert response.status_code == 400
    assert problem in response.get_json()["error"]["fields"][field]


def test_a_stored_template_no_longer_valid_is_a_400_naming_it(runtime, client, ticket):
    with runtime.sessions.begin() as session:
        row = CannedResponse(workspace_id=repo.workspace_row(session, "demo").id, name="old",
                             text="Hi {ticket.__class__} {customer.email}", html="", tags=[])
        session.add(row)
        session.flush()
        canned_id = row.id
    response = reply(client, {"canned": canned_id})
    assert response.status_code == 400
    assert "{ticket.__class__}, {customer.email}" in response.get_json()["error"]["fields"][
        "canned"]
    assert uses_of(runtime, canned_id) == 0


def test_a_canned_response_that_renders_blank_is_a_409(runtime, client, canned_id):
    with runtime.sessions.begin() as session:
        add_ticket(session)  # no customer: {customer.name} is empty
    blank = client.post("/api/v1/canned", json={"name": "blank", "text": " {customer.name} "},
                        headers=auth()).get_json()["id"]
    response = reply(client, {"canned": blank})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "canned_unusable"


def test_a_reply_to_a_merged_ticket_renders_the_survivors_number(runtime, client, ticket,
                                                                  canned_id):
    with runtime.sessions.begin() as session:
        add_ticket(session, subject="Second")
    assert client.post("/api/v1/tickets/1/merge", json={"into": 2},
                       headers=auth()).status_code == 200
    assert "#2 (Second)" in reply(client, {"canned": canned_id}).get_json()["text"]
