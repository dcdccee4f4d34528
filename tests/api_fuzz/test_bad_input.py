"""Hostile bodies on every JSON endpoint get a 400 naming the field, never a 500 (issue 10).

Reproductions: deep nesting on POST notes, PUT agents, PATCH customers, the Postmark and form
JSON endpoints was a RecursionError; a lone surrogate in POST /chat/demo/messages was a
UnicodeEncodeError; CR/LF in a reply attachment's filename or type was accepted and broke the
outbound job. On SQLite and PostgreSQL (which refuses NUL in text).
"""
from __future__ import annotations

import base64

import pytest
from rq import Queue

from gateway.json_input import MAX_DEPTH
from gateway.web import create_app
from tests.api_fuzz.endpoints import ALL, API, EDGES, basic_auth, bearer, error_of, post
from tests.gateway.apifactory import add_customer, add_message, add_ticket

DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"text":' * 50_000 + b"1" + b"}" * 50_000
JUST_TOO_DEEP = b'{"text":' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}"
HOSTILE = {  # body -> the problem every endpoint must name
    "deep array": DEEP_ARRAY, "deep object": DEEP_OBJECT, "just too deep": JUST_TOO_DEEP,
    "invalid utf-8": b'{"text": "caf\xe9"}', "bom": b'\xef\xbb\xbf{"text": "hi"}',
    "1e400": b'{"text": 1e400}', "5000 digits": b'{"text": ' + b"9" * 5000 + b"}",
    "NaN": b'{"text": NaN}', "duplicate key": b'{"text": "a", "text": "b"}',
    "many values": b"[" + b"0," * 200_000 + b"0]", "not an object": b'["text"]',
    "empty": b"", "truncated": b'{"text": "hi', "quotes": b'"\\"' * 100_000,
}


@pytest.fixture
def client(runtime, api_keys, edge_secrets):
    """The fuzz app on SQLite and PostgreSQL: ticket 1 with a message, customer 1."""
    with runtime.sessions.begin() as session:
        customer = add_customer(session, "demo", "Carla Customer", "carla@customer.test")
        add_message(session, add_ticket(session, customer_id=customer.id), "Hello")
    return create_app(runtime).test_client()


@pytest.mark.parametrize("endpoint", ALL, ids=str)
def test_hostile_json_is_a_4xx_naming_the_body(fuzz_app, endpoint):
    client = fuzz_app.test_client()  # refused before any query: one database is enough
    for kind, body in HOSTILE.items():
        response = post(client, endpoint, body)
        assert response.status_code == endpoint.reject_status, (kind, response.get_data()[:300])
        error = error_of(response)
        assert error["code"] == "invalid_json", kind
        assert set(error["fields"]) == {"text" if kind == "duplicate key" else "body"}, kind


@pytest.mark.parametrize("endpoint", API + [e for e in EDGES if e.name.startswith("chat")],
                         ids=str)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(client, endpoint):
    for escape in (b"\\u0000", b"\\ud800", b"\\udfff"):
        body = b'{"text": "a%sb", "name": "x", "tags": ["t"], "agent": "alice"}' % escape
        response = post(client, endpoint, body)
        assert response.status_code == 400, escape
        assert "text" in error_of(response)["fields"], escape


def test_lone_surrogate_in_a_widget_message_is_400_naming_text(client):
    response = client.post("/chat/demo/messages", data=b'{"text": "hi \\ud83d there"}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"text": "must not contain NUL or unpaired "
                                                    "surrogate characters"}


def test_a_surrogate_pair_is_ordinary_text(client):
    response = client.post("/api/v1/tickets/1/notes", headers=bearer(),
                           data=b'{"text": "ok \\ud83d\\ude00"}', content_type="application/json")
    assert response.status_code == 201 and response.get_json()["text"] == "ok \U0001f600"


def test_an_integral_float_is_an_integer(client):
    response = client.post("/api/v1/tickets/1/merge", headers=bearer(), json={"into": 1.0})
    assert response.status_code == 409  # a ticket into itself: refused as a conflict, not a 400


def reply_with(attachment: dict) -> dict:
    return {"text": "See attached", "attachments": [
        {"filename": "invoice.pdf", "content_type": "application/pdf",
         "content": base64.b64encode(b"%PDF-1.7").decode(), **attachment}]}


@pytest.mark.parametrize("field, value", [
    ("filename", "invoice.pdf\r\nBcc: victim@example.com"), ("filename", "a\nb.pdf"),
    ("filename", "a\rb.pdf"), ("filename", "nul\x00.pdf"), ("filename", "tab\t.pdf"),
    ("filename", "dir/x.pdf"), ("filename", "   "),
    ("content_type", "application/pdf\r\nX-Evil: 1"), ("content_type", "text/plain\n"),
    ("content_type", "text/plain; charset=utf-8"), ("content_type", "pdf"),
    ("content_type", "a/b/c"),
])
def test_control_characters_in_a_reply_attachment_are_400_naming_the_field(client, field,
                                                                             value):
    response = client.post("/api/v1/tickets/1/replies", headers=bearer(),
                           json=reply_with({field: value}))
    assert response.status_code == 400
    assert names(error_of(response), f"attachments[0].{field}")


def names(error: dict, path: str) -> bool:
    """The error names ``path``: as its field, or (NUL, surrogates) in its top field's message."""
    return path in error["fields"] or any(message.startswith(path + ": ")
                                          for message in error["fields"].values())


def test_a_clean_attachment_is_stored(client):
    response = client.post("/api/v1/tickets/1/replies", headers=bearer(), json=reply_with({}))
    assert response.status_code == 201
    assert response.get_json()["attachments"][0]["filename"] == "invoice.pdf"


@pytest.mark.parametrize("path", ["/api/v1/tickets/1/replies", "/api/v1/tickets/1/notes",
                                  "/api/v1/tickets/1/merge"])
def test_control_characters_in_the_author_are_400(client, path):
    response = client.post(path, headers=bearer(),
                           json={"text": "hi", "into": 1, "author": "eve\r\nBcc: x"})
    assert response.status_code == 400 and "author" in error_of(response)["fields"]


def test_control_characters_in_the_idempotency_key_are_400(client):
    response = client.post("/api/v1/tickets/1/notes", json={"text": "hi"},
                           headers={**bearer(), "Idempotency-Key": "k\x01ey"})
    assert response.status_code == 400 and "Idempotency-Key" in error_of(response)["fields"]


@pytest.mark.parametrize("field, body", [
    ("envelope", {"envelope": "[" * 100 + "]" * 100}),
    ("charsets", {"envelope": '{"to": []}', "charsets": '{"a":' * 100 + "1" + "}" * 100}),
    ("", {"envelope": "[" * 5000 + "]" * 5000}),  # deeper than Python's stack
])
def test_deep_json_in_a_sendgrid_form_field_is_400(client, field, body):
    response = client.post("/hooks/inbound/sendgrid/demo", headers=basic_auth(),
                           data={"from": "a@b.test", **body})
    assert response.status_code == 400
    assert field in error_of(response)["fields"] or not field


def test_hostile_json_never_reaches_a_queue(fuzz_app, sqlite_runtime):
    client, runtime = fuzz_app.test_client(), sqlite_runtime
    for endpoint in EDGES:
        for body in HOSTILE.values():
            post(client, endpoint, body)
    for name in ("form", "chat", "telegram", "email"):
        assert Queue(name, connection=runtime.redis).count == 0, name
