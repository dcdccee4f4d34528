"""The Mailgun edge: signature, replay window, token reuse, payload checks, what gets queued."""
from __future__ import annotations

import time

from queues.intake import RAW_KEY
from queues.metrics import METRICS_KEY
from gateway.web import create_app
from tests.conftest import make_runtime
from tests.inbound.conftest import queued
from tests.inbound.fixtures import mailgun
from tests.inbound.fixtures.mail import customer_mail
from tests.inbound.posting import post_form, post_mailgun
from tests.integration.harness import free_port


def test_signed_parsed_post_is_queued_as_received(client, sqlite_runtime):
    fields, files = mailgun.parsed_fields(customer_mail())
    body, content_type = mailgun.encode(fields + mailgun.signature(), files)
    response = client.post("/hooks/inbound/mailgun/demo", data=body, content_type=content_type)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "accepted"
    [envelope] = queued(sqlite_runtime)
    assert envelope["account"] == "mailgun" and envelope["workspace"] == "demo"
    assert envelope["meta"]["format"] == "mailgun"
    assert envelope["meta"]["content_type"] == content_type
    assert envelope["meta"]["rcpt_to"] == ["support@demo.test"]
    assert sqlite_runtime.redis.get(RAW_KEY + envelope["raw_ref"]) == body


def test_documented_example_is_accepted(client, sqlite_runtime):
    response = post_mailgun(client, mailgun.DOC_EXAMPLE, mailgun.DOC_EXAMPLE_FILES)
    assert response.status_code == 200
    assert queued(sqlite_runtime)[0]["meta"]["format"] == "mailgun"


def test_urlencoded_post_without_attachments_is_accepted(client, sqlite_runtime):
    fields, _ = mailgun.parsed_fields(customer_mail())
    response = client.post("/hooks/inbound/mailgun/demo",
                           data=dict(fields + mailgun.signature()))
    assert response.status_code == 200
    assert queued(sqlite_runtime)[0]["meta"]["content_type"].startswith(
        "application/x-www-form-urlencoded")


def test_raw_mime_variant_on_the_mime_url(client, sqlite_runtime):
    response = post_mailgun(client, mailgun.mime_fields(customer_mail()), suffix="/mime")
    assert response.status_code == 200
    assert queued(sqlite_runtime)[0]["meta"]["format"] == "mailgun-mime"


def test_bad_signature_is_401_and_nothing_queued(client, sqlite_runtime):
    fields, files = mailgun.parsed_fields(customer_mail())
    response = post_mailgun(client, fields, files, signed=mailgun.signature(key="wrong-key"))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert queued(sqlite_runtime) == []
    assert int(sqlite_runtime.redis.hget(METRICS_KEY, "rejected|email")) == 1


def test_missing_signature_is_401(client, sqlite_runtime):
    fields, files = mailgun.parsed_fields(customer_mail())
    response = post_mailgun(client, fields, files, signed=[])
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "missing_signature"


def test_signature_over_other_token_is_refused(client):
    signed = mailgun.signature()
    signed[1] = ("token", "x" * 50)  # the signature covered another token
    fields, _ = mailgun.parsed_fields(customer_mail())
    assert post_mailgun(client, fields, signed=signed).status_code == 401


def test_stale_and_future_timestamps_are_406(client, sqlite_runtime):
    fields, _ = mailgun.parsed_fields(customer_mail())
    stale = mailgun.signature(timestamp=int(time.time()) - 3601)  # max_age_s is 3600 here
    future = mailgun.signature(timestamp=int(time.time()) + 3600)
    for signed in (stale, future):
        response = post_mailgun(client, fields, signed=signed)
        assert response.status_code == 406
        assert response.get_json()["error"]["code"] == "stale_timestamp"
    assert queued(sqlite_runtime) == []


def test_timestamp_inside_the_window_is_accepted(client):
    fields, _ = mailgun.parsed_fields(customer_mail())
    signed = mailgun.signature(timestamp=int(time.time()) - 3000)  # a Mailgun retry, later
    assert post_mailgun(client, fields, signed=signed).status_code == 200


def test_reused_token_is_406(client, sqlite_runtime):
    fields, _ = mailgun.parsed_fields(customer_mail())
    signed = mailgun.signature()
    assert post_mailgun(client, fields, signed=signed).status_code == 200
    response = post_mailgun(client, fields, signed=signed)
    assert response.status_code == 406
    assert response.get_json()["error"]["code"] == "replayed"
    assert len(queued(sqlite_runtime)) == 1


def test_missing_fields_are_406_naming_them(client, sqlite_runtime):
    response = post_mailgun(client, [("subject", "hi"), ("body-plain", "text")])
    assert response.status_code == 406
    error = response.get_json()["error"]
    assert error["code"] == "invalid_payload"
    assert set(error["fields"]) == {"from", "recipient"}
    assert queued(sqlite_runtime) == []


def test_broken_message_headers_are_406(client):
    fields, _ = mailgun.parsed_fields(customer_mail())
    fields = [(k, "[not json" if k == "message-headers" else v) for k, v in fields]
    response = post_mailgun(client, fields)
    assert response.status_code == 406
    assert "message-headers" in response.get_json()["error"]["fields"]


def test_not_a_form_is_406(client):
    response = client.post("/hooks/inbound/mailgun/demo", data=b'{"a": 1}',
                           content_type="application/json")
    assert response.status_code == 406
    assert response.get_json()["error"]["code"] == "invalid_form"


def test_truncated_multipart_is_406(client):
    fields, files = mailgun.parsed_fields(customer_mail())
    body, content_type = mailgun.encode(fields + mailgun.signature(), files)
    response = client.post("/hooks/inbound/mailgun/demo", data=body[:-40],
                           content_type=content_type)
    assert response.status_code == 406


def test_unknown_workspace_provider_and_unconfigured_provider_are_404(client):
    fields, _ = mailgun.parsed_fields(customer_mail())
    assert post_mailgun(client, fields, workspace="nope").status_code == 404
    assert post_mailgun(client, fields, workspace="acme").status_code == 404  # not configured
    assert post_form(client, "/hooks/inbound/mandrill/demo", fields).status_code == 404


def test_unset_signing_key_refuses_everything(client, monkeypatch):
    monkeypatch.setenv("TG_TEST_MAILGUN_KEY", "")
    fields, _ = mailgun.parsed_fields(customer_mail())
    assert post_mailgun(client, fields, signed=mailgun.signature(key="")).status_code == 401


def test_oversized_post_is_413(client, sqlite_runtime):
    fields, _ = mailgun.parsed_fields(customer_mail())
    files = [("attachment-1", ("big.bin", b"\0" * (41 * 1024 * 1024), "application/pdf"))]
    response = post_mailgun(client, fields, files)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert queued(sqlite_runtime) == []


def test_redis_down_is_503_and_the_retry_with_the_same_token_succeeds(
        sqlite_url, sqlite_runtime, tmp_path, test_config):
    down = make_runtime(sqlite_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path, test_config)
    fields, _ = mailgun.parsed_fields(customer_mail())
    signed = mailgun.signature()
    response = post_mailgun(create_app(down).test_client(), fields, signed=signed)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    # Mailgun resends the same signature block: it must not look like a replay
    retry = post_mailgun(create_app(sqlite_runtime).test_client(), fields, signed=signed)
    assert retry.status_code == 200
