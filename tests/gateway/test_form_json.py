"""The contact form's JSON endpoint: answers, errors, CORS, rate limits, body limits, outages."""
from __future__ import annotations

import base64
import io
import json

import pytest

from tests.gateway import form_fixtures
from tests.gateway.form_fixtures import (EXE, PNG, SHOP, VALID, queued_envelopes, queued_payloads,
                                        rejected_count)

# the fixtures of this module (defined in form_fixtures.py)
client = form_fixtures.client
down_client = form_fixtures.down_client
form_runtime = form_fixtures.form_runtime


def post_json(client, body, path="/contact/demo", **kwargs):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **kwargs)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def error(response) -> dict:
    return response.get_json()["error"]


@pytest.mark.parametrize("path", ["/contact/demo", "/contact/demo/submit.json"])
def test_accepted_with_a_reference(client, form_runtime, path):
    response = post_json(client, {**VALID, "attachments": [
        {"filename": "shot.png", "content_type": "image/png", "data": b64(PNG)}]}, path)
    assert response.status_code == 202
    [envelope] = queued_envelopes(form_runtime)
    assert response.get_json() == {"status": "accepted",
                                   "reference": envelope["raw_ref"][:12].upper()}
    [payload] = queued_payloads(form_runtime)
    assert payload["via"] == "json" and payload["attachments"][0]["data"] == b64(PNG)


def test_multipart_post_that_prefers_json_gets_json(client, form_runtime):
    response = client.post("/contact/demo", headers={"Accept": "application/json"},
                           data={**VALID, "attachments": [(io.BytesIO(PNG), "a.png")]})
    assert response.status_code == 202 and response.get_json()["status"] == "accepted"
    assert queued_payloads(form_runtime)[0]["attachments"][0]["content_type"] == "image/png"
    response = client.post("/contact/demo", headers={"Accept": "application/json"},
                           data={"subject": "x"})
    assert response.status_code == 400 and "email" in error(response)["fields"]


@pytest.mark.parametrize("body, code", [
    (b"{not json", "invalid_json"), (b"\xff\xfe", "invalid_json"), (b"[1, 2]", "invalid_json"),
    (b'"text"', "invalid_json"), (b"", "invalid_json"),
])
def test_invalid_json_is_400(client, form_runtime, body, code):
    response = post_json(client, body)
    assert response.status_code == 400 and error(response)["code"] == code
    assert queued_envelopes(form_runtime) == []


@pytest.mark.parametrize("changes, field, message", [
    ({"name": 5}, "name", "Must be a string."),
    ({"email": ["a@b.co"]}, "email", "Must be a string."),
    ({"message": {"x": 1}}, "message", "Must be a string."),
    ({"website": 1}, "website", "Must be a string."),
    ({"mesage": "typo"}, "mesage", "Unknown field."),
    ({"attachments": "x"}, "attachments", "Must be a list"),
    ({"attachments": [5]}, "attachments", "File 1: must be an object with base64 'data'."),
    ({"attachments": [{"data": "%%%"}]}, "attachments", "File 1: 'data' is not valid base64."),
    ({"attachments": [{"data": b64(PNG), "filename": 1}]}, "attachments", "must be strings"),
    ({"attachments": [{"data": b64(EXE), "filename": "cat.png", "content_type": "image/png"}]},
     "attachments", "cat.png is a file of type application/x-msdownload"),
    ({"attachments": [{"data": b64(PNG)}] * 3}, "attachments", "Attach at most 2 files"),
    ({"email": "nope"}, "email", "Enter an email address"),
    ({"name": None, "email": None}, "email", "Enter your email."),
    ({"message": "m" * 20_001}, "message", "Use at most 20,000 characters"),
])
def test_wrong_fields_are_400_with_fields(client, form_runtime, changes, field, message):
    before = rejected_count(form_runtime)
    response = post_json(client, {**VALID, **changes})
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_parameters"
    assert message in error(response)["fields"][field]
    assert queued_envelopes(form_runtime) == [] and rejected_count(form_runtime) == before + 1


def test_honeypot_gets_a_fake_202(client, form_runtime):
    response = post_json(client, {**VALID, "website": "spam"})
    assert response.status_code == 202 and len(response.get_json()["reference"]) == 12
    assert queued_envelopes(form_runtime) == []


def test_same_submission_id_twice_is_one_message_with_one_reference(client, form_runtime):
    body = {**VALID, "submission_id": "json-client-0001"}
    first, second = post_json(client, body), post_json(client, body)
    assert first.get_json() == second.get_json() and second.status_code == 202
    assert len(queued_envelopes(form_runtime)) == 1


@pytest.mark.parametrize("path", ["/contact/nope", "/contact/closed"])
def test_unknown_or_disabled_is_404_json(client, path):
    response = post_json(client, VALID, path)
    assert response.status_code == 404 and error(response)["code"] == "not_found"


def test_allowed_origin_gets_cors_headers(client):
    response = post_json(client, VALID, headers={"Origin": SHOP})
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in response.headers["Vary"]
    invalid = post_json(client, {}, headers={"Origin": SHOP})  # errors are readable too
    assert invalid.status_code == 400 and invalid.headers["Access-Control-Allow-Origin"] == SHOP


def test_own_origin_and_no_origin_are_allowed(client):
    assert post_json(client, VALID, headers={"Origin": "http://localhost"}).status_code == 202
    assert post_json(client, VALID).status_code == 202


@pytest.mark.parametrize("origin", ["https://evil.test", "null", SHOP + ".evil.test",
                                    "http://shop.demo.test"])
def test_other_origins_are_403(client, form_runtime, origin):
    response = post_json(client, VALID, headers={"Origin": origin})
    assert response.status_code == 403 and error(response)["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert queued_envelopes(form_runtime) == []


def test_preflight(client):
    headers = {"Origin": SHOP, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    for path in ("/contact/demo", "/contact/demo/submit.json"):
        response = client.options(path, headers=headers)
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == SHOP
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    refused = client.options("/contact/demo", headers={**headers, "Origin": "https://evil.test"})
    assert refused.status_code == 403 and error(refused)["code"] == "origin_not_allowed"
    assert client.options("/contact/nope", headers=headers).status_code == 404


def test_rate_limit_per_ip(client):
    statuses = [post_json(client, {**VALID, "email": f"c{n}@x.test"}, "/contact/limited")
                for n in range(4)]
    assert [r.status_code for r in statuses] == [202, 202, 202, 429]
    assert error(statuses[-1])["code"] == "rate_limited"
    assert int(statuses[-1].headers["Retry-After"]) > 0
    other_ip = post_json(client, VALID, "/contact/limited",
                         environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other_ip.status_code == 202


def test_rate_limit_per_email_across_ips(client, form_runtime):
    statuses = [post_json(client, {**VALID, "message": f"try {n}"}, "/contact/limited",
                          environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}) for n in range(3)]
    assert [r.status_code for r in statuses] == [202, 202, 429]
    assert len(queued_envelopes(form_runtime)) == 2
    other = post_json(client, {**VALID, "email": "bob@x.test"}, "/contact/limited",
                      environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert other.status_code == 202


def test_oversized_body_is_413_json(client, form_runtime):
    big = {**VALID, "attachments": [{"data": b64(b"x" * 300_000)}]}
    response = post_json(client, big)
    assert response.status_code == 413 and error(response)["code"] == "payload_too_large"
    assert queued_envelopes(form_runtime) == []


def test_redis_down_is_503_json_with_retry_after(down_client):
    response = post_json(down_client, VALID)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert error(response)["code"] == "unavailable"


def test_wrong_method_is_405_json(client):
    response = client.get("/contact/demo/submit.json")
    assert response.status_code == 405 and error(response)["code"] == "method_not_allowed"
