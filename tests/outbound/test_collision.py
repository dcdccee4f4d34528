"""Collision detection: the ticket's ETag, If-Match on replies and PATCH, 412 ticket_changed
with what changed since; two agents replying with the same ETag at once: exactly one wins
(SQLite and PostgreSQL)."""
import threading

import pytest
from sqlalchemy import func, select

from gateway.web import create_app
from store.models import Message
from tests.outbound.conftest import auth, inbound, reply, with_relay
from tests.outbound.mails import first_mail


@pytest.fixture
def rt(runtime, sink, api_keys):
    """Both databases (the outbound conftest's ``rt`` is SQLite only)."""
    return with_relay(runtime, sink.url)


@pytest.fixture
def app(rt):
    return create_app(rt)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ticket(rt):
    assert inbound(rt, first_mail()) == "created"
    return 1


def etag(client, number: int = 1) -> str:
    response = client.get(f"/api/v1/tickets/{number}", headers=auth())
    assert response.status_code == 200
    return response.headers["ETag"]


def patch(client, body: dict, number: int = 1, **headers):
    return client.patch(f"/api/v1/tickets/{number}", json=body, headers={**auth(), **headers})


def test_etag_is_stable_until_the_ticket_changes(client, ticket):
    first = etag(client)
    assert first.startswith('"') and first == etag(client)
    seen = {first}
    for change in ({"status": "open"}, {"priority": "high"}, {"tags": ["x"]}):
        assert patch(client, change).status_code == 200
        seen.add(etag(client))
    assert len(seen) == 4  # every change, tags included (updated_at moves)
    before = etag(client)
    client.post("/api/v1/tickets/1/notes", json={"text": "psst"}, headers=auth())
    assert etag(client) != before


def test_reply_with_the_current_etag_goes_through(client, ticket):
    response = client.post(
        "/api/v1/tickets/1/replies", json={"text": "On it"},
        headers={**auth(), "If-Match": etag(client)})
    assert response.status_code == 201


def test_stale_etag_is_412_with_what_changed_since(client, ticket):
    stale = etag(client)
    assert reply(client, ticket, author="bob").status_code == 201
    assert patch(client, {"priority": "urgent", "author": "carol"}).status_code == 200
    response = client.post("/api/v1/tickets/1/replies", json={"text": "Me too"},
                           headers={**auth(), "If-Match": stale})
    assert response.status_code == 412
    error = response.get_json()["error"]
    assert error["code"] == "ticket_changed"
    assert response.headers["ETag"] == error["etag"] == etag(client)
    assert error["current"]["priority"] == "urgent"
    assert error["current"]["status"] == "answered" and error["current"]["message_count"] == 2
    assert [(m["direction"], m["author"]) for m in error["messages"]] == [("out", "bob")]
    assert [(e["kind"], e["new"], e["actor"]) for e in error["events"]] == [
        ("status", "answered", "bob"), ("priority", "urgent", "carol")]


def test_stale_etag_on_patch_is_412_and_changes_nothing(client, rt, ticket):
    stale = etag(client)
    assert patch(client, {"status": "open"}).status_code == 200
    response = patch(client, {"status": "resolved"}, **{"If-Match": stale})
    assert response.status_code == 412
    assert response.get_json()["error"]["current"]["status"] == "open"
    fresh = patch(client, {"status": "resolved"}, **{"If-Match": response.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.get_json()["status"] == "resolved"
    assert fresh.headers["ETag"] == etag(client)


@pytest.mark.parametrize("value, status, listed", [
    ("*", 201, None), ('W/"0000000000000000.0.0"', 412, False), ('"nope"', 412, False),
    ('"0000000000000000.1.1", "also-wrong"', 412, True), ("no quotes", 400, None),
    ('"a" junk', 400, None), ('"' + "x" * 1000 + '"', 400, None),
])
def test_if_match_forms(client, ticket, value, status, listed):
    """A weak or foreign tag never matches; only a tag of ours says since when."""
    response = client.post("/api/v1/tickets/1/replies", json={"text": "Hi"},
                           headers={**auth(), "If-Match": value})
    assert response.status_code == status, response.get_json()
    if status == 412:
        assert (response.get_json()["error"]["messages"] is not None) == listed
    if status == 400:
        assert "If-Match" in response.get_json()["error"]["fields"]


def test_one_of_several_tags_matching_is_enough(client, ticket):
    value = f'"0000000000000000.0.0", {etag(client)}'
    response = patch(client, {"priority": "low"}, **{"If-Match": value})
    assert response.status_code == 200


def test_a_retried_reply_returns_its_message_despite_the_now_stale_etag(client, ticket):
    headers = {**auth(), "If-Match": etag(client), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/tickets/1/replies", json={"text": "Hi"}, headers=headers)
    again = client.post("/api/v1/tickets/1/replies", json={"text": "Hi"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.get_json()["id"] == again.get_json()["id"]


def test_unknown_ticket_is_404_before_any_version_check(client, ticket):
    response = client.post("/api/v1/tickets/99/replies", json={"text": "Hi"},
                           headers={**auth(), "If-Match": '"x"'})
    assert response.status_code == 404


def test_merged_tickets_etag_follows_its_survivor(client, rt, ticket):
    assert inbound(rt, first_mail(subject="Another", sender="bob@customer.test")) == "created"
    assert client.post("/api/v1/tickets/1/merge", json={"into": 2},
                       headers=auth()).status_code == 200
    merged = etag(client, 1)
    assert reply(client, 2).status_code == 201  # lands on the survivor
    response = client.post("/api/v1/tickets/1/replies", json={"text": "Hi"},
                           headers={**auth(), "If-Match": merged})
    assert response.status_code == 412
    assert response.get_json()["error"]["current"]["number"] == 2


def test_two_agents_racing_with_one_etag_exactly_one_wins(app, rt, ticket):
    """Each round both agents read the same ETag, then reply at the same moment."""
    for round_ in range(4):
        tag = etag(app.test_client())
        barrier = threading.Barrier(2)
        answers: list[int] = []

        def agent(name: str) -> None:
            client = app.test_client()
            barrier.wait()
            answers.append(client.post("/api/v1/tickets/1/replies",
                                       json={"text": f"{name} {round_}", "author": name},
                                       headers={**auth(), "If-Match": tag}).status_code)

        threads = [threading.Thread(target=agent, args=(n,)) for n in ("ann", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(answers) == [201, 412]
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Message)
                        .where(Message.direction == "out")) == 4


def test_without_if_match_both_replies_go_through(client, ticket):
    assert reply(client, ticket).status_code == 201
    assert reply(client, ticket).status_code == 201


def test_the_document_shows_if_match_412_and_presence(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in (("/api/v1/tickets/{number}/replies", "post"),
                         ("/api/v1/tickets/{number}", "patch")):
        operation = paths[path][method]
        assert "412" in operation["responses"]
        assert "If-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert set(paths["/api/v1/tickets/{number}/presence"]) == {"get", "post"}
    reply_body = paths["/api/v1/tickets/{number}/replies"]["post"]["requestBody"]
    assert {"to", "cc", "bcc"} <= set(str(reply_body).split("'"))
