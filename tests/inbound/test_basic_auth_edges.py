"""The SendGrid and Postmark edges: basic auth, payload checks, status codes, what is queued."""
from __future__ import annotations

import json

import pytest

from queues.intake import RAW_KEY
from gateway.web import create_app
from tests.conftest import make_runtime
from tests.inbound.conftest import queued
from tests.inbound.fixtures import postmark, sendgrid
from tests.inbound.fixtures.mail import customer_mail
from tests.inbound.posting import basic, post_postmark, post_sendgrid
from tests.integration.harness import free_port


def test_sendgrid_parsed_post_is_queued_as_received(client, sqlite_runtime):
    fields, files = sendgrid.parsed_fields(customer_mail())
    response = post_sendgrid(client, fields, files)
    assert response.status_code == 200, response.get_json()
    [envelope] = queued(sqlite_runtime)
    assert (envelope["account"], envelope["meta"]["format"]) == ("sendgrid", "sendgrid")
    assert envelope["meta"]["rcpt_to"] == ["support@demo.test"]
    assert envelope["meta"]["mail_from"] == "alice@customer.test"
    assert envelope["meta"]["content_type"].startswith("multipart/form-data; boundary=")
    assert sqlite_runtime.redis.get(RAW_KEY + envelope["raw_ref"]).startswith(b"--")


def test_sendgrid_raw_variant(client, sqlite_runtime):
    assert post_sendgrid(client, sendgrid.raw_fields(customer_mail())).status_code == 200
    assert queued(sqlite_runtime)[0]["meta"]["format"] == "sendgrid-raw"


@pytest.mark.parametrize("auth", [{}, basic(sendgrid.USER, "wrong"), basic("wrong", sendgrid.PASSWORD),
                                  {"Authorization": "Bearer " + sendgrid.PASSWORD}])
def test_sendgrid_without_the_right_basic_auth_is_401(client, sqlite_runtime, auth):
    fields, files = sendgrid.parsed_fields(customer_mail())
    response = post_sendgrid(client, fields, files, auth=auth)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert queued(sqlite_runtime) == []


def test_sendgrid_missing_fields_are_400_naming_them(client, sqlite_runtime):
    response = post_sendgrid(client, [("subject", "hi"), ("text", "body")])
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"from", "envelope"}
    assert queued(sqlite_runtime) == []


def test_sendgrid_broken_charsets_json_is_400(client):
    fields, _ = sendgrid.parsed_fields(customer_mail())
    fields = [(k, "{broken" if k == "charsets" else v) for k, v in fields]
    response = post_sendgrid(client, fields)
    assert response.status_code == 400
    assert "charsets" in response.get_json()["error"]["fields"]


def test_postmark_post_is_queued(client, sqlite_runtime):
    response = post_postmark(client, postmark.inbound_json(customer_mail()))
    assert response.status_code == 200  # Postmark counts only 200 as delivered
    [envelope] = queued(sqlite_runtime)
    assert (envelope["account"], envelope["meta"]["format"]) == ("postmark", "postmark")
    assert envelope["meta"]["rcpt_to"] == ["support@demo.test"]


@pytest.mark.parametrize("auth", [{}, basic(postmark.USER, "nope"), basic(sendgrid.USER,
                                                                         sendgrid.PASSWORD)])
def test_postmark_without_the_right_basic_auth_is_401(client, sqlite_runtime, auth):
    response = post_postmark(client, postmark.inbound_json(customer_mail()), auth=auth)
    assert response.status_code == 401
    assert queued(sqlite_runtime) == []


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_postmark_invalid_json_is_403_so_postmark_stops_retrying(client, body):
    response = post_postmark(client, None, raw=body)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_postmark_missing_sender_and_wrong_types_are_403_naming_fields(client, sqlite_runtime):
    data = postmark.inbound_json(customer_mail())
    del data["From"], data["FromFull"]
    data["Headers"], data["Subject"] = "X-Spam: no", 42
    data["Attachments"] = [{"Name": "a.txt", "Content": 5}]
    response = post_postmark(client, data)
    assert response.status_code == 403
    assert set(response.get_json()["error"]["fields"]) == {"From", "Headers", "Subject",
                                                            "Attachments[0]"}
    assert queued(sqlite_runtime) == []


def test_postmark_raw_email_alone_is_enough(client):
    data = {"RawEmail": customer_mail().as_string(), "OriginalRecipient": "support@demo.test"}
    assert post_postmark(client, data).status_code == 200


def test_unconfigured_and_unknown_are_404(client):
    assert post_postmark(client, postmark.inbound_json(customer_mail()),
                         workspace="acme").status_code == 404
    assert post_postmark(client, postmark.inbound_json(customer_mail()),
                         workspace="ghost").status_code == 404
    fields, _ = sendgrid.parsed_fields(customer_mail())
    assert post_sendgrid(client, fields, workspace="acme").status_code == 404


def test_get_is_405(client):
    assert client.get("/hooks/inbound/postmark/demo").status_code == 405


def test_redis_down_is_503_with_retry_after(sqlite_url, redis_conn, tmp_path, test_config):
    down = make_runtime(sqlite_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path, test_config)
    client = create_app(down).test_client()
    fields, files = sendgrid.parsed_fields(customer_mail())
    for response in (post_postmark(client, postmark.inbound_json(customer_mail())),
                     post_sendgrid(client, fields, files)):
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert response.get_json()["error"]["code"] == "unavailable"


def test_postmark_oversized_is_413(client):
    data = postmark.inbound_json(customer_mail())
    data["TextBody"] = "x" * (41 * 1024 * 1024)
    assert post_postmark(client, None, raw=json.dumps(data).encode()).status_code == 413
