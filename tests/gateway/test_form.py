"""The contact form's HTML side: the page, validation messages, honeypot, attachments, receipts.

Flask's test client on a real Redis and SQLite (fixtures in form_fixtures.py).
"""
from __future__ import annotations

import io
import re

import pytest

from gateway.edges.form.validate import email_problem
from tests.gateway import form_fixtures
from tests.gateway.form_fixtures import (EXE, MAX_BYTES, PDF, PNG, VALID, queued_envelopes,
                                        queued_payloads, rejected_count)

# the fixtures of this module (defined in form_fixtures.py)
client = form_fixtures.client
down_client = form_fixtures.down_client
form_runtime = form_fixtures.form_runtime


def post(client, data, **kwargs):
    return client.post("/contact/demo", data=data, **kwargs)


def submission_id(page: str) -> str:
    return re.search(r'name="submission_id" value="([^"]+)"', page).group(1)


def test_page_has_every_field_labelled_and_is_embeddable(client):
    response = client.get("/contact/demo")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    for name in ("name", "email", "subject", "message", "attachments"):
        assert f'name="{name}"' in page and f'<label for="field-{name}"' in page
    assert page.count("<fieldset>") == 2 and "<legend>" in page
    assert 'enctype="multipart/form-data"' in page and "<script" not in page
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors" not in response.headers["Content-Security-Policy"]
    assert 'lang="en"' in page and 'name="viewport"' in page
    assert 'class="hp" aria-hidden="true"' in page and 'tabindex="-1"' in page
    assert len(submission_id(page)) >= 16
    assert submission_id(page) != submission_id(client.get("/contact/demo").get_data(True))


def test_stylesheet_is_served_with_a_visible_focus_style(client):
    response = client.get("/contact/_static/form.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert ":focus-visible" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/contact/nope", "/contact/closed", "/contact/closed/thanks"])
def test_unknown_workspace_or_disabled_form_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "no contact form" in response.get_data(True)
    assert post(client, VALID).status_code == 303  # the demo form still works
    assert client.post(path.replace("/thanks", ""), data=VALID).status_code in (404, 405)


def test_valid_post_redirects_to_a_receipt_with_the_reference(client, form_runtime):
    response = post(client, {**VALID, "email": "Alice@Customer.TEST"},
                    headers={"User-Agent": "pytest-browser", "Origin": "http://localhost"})
    assert response.status_code == 303
    reference = re.search(r"reference=([0-9A-F]{12})$", response.headers["Location"]).group(1)
    [envelope] = queued_envelopes(form_runtime)
    assert reference == envelope["raw_ref"][:12].upper()
    receipt = client.get(response.headers["Location"])
    assert receipt.status_code == 200 and reference in receipt.get_data(True)
    [payload] = queued_payloads(form_runtime)
    assert payload["email"] == "alice@customer.test" and payload["name"] == "Alice"
    assert payload["message"] == "It is on fire." and payload["subject"] == "Printer"
    assert payload["remote_ip"] == "127.0.0.1" and payload["user_agent"] == "pytest-browser"
    assert payload["origin"] == "http://localhost" and payload["submitted_at"]
    assert payload["attachments"] == []


def test_receipt_with_a_malformed_reference_is_404(client):
    assert client.get("/contact/demo/thanks?reference=<b>x</b>").status_code == 404


LONG = {"name": "n" * 201, "subject": "s" * 201, "message": "m" * 20_001}


@pytest.mark.parametrize("field, value, expected", [
    ("name", "", "Enter your name."),
    ("email", "", "Enter your email."),
    ("message", "   ", "Enter a message."),
    ("email", "alice", "Enter an email address like name@example.com."),
    ("email", "alice@localhost", "Enter an email address like name@example.com."),
    ("email", "al ice@customer.test", "Enter an email address like name@example.com."),
    ("email", "alice@@customer.test", "Enter an email address like name@example.com."),
    ("name", LONG["name"], "Use at most 200 characters (now 201)."),
    ("subject", LONG["subject"], "Use at most 200 characters (now 201)."),
    ("message", LONG["message"], "Use at most 20,000 characters (now 20,001)."),
])
def test_each_invalid_field_is_named_and_values_are_kept(client, form_runtime, field, value,
                                                         expected):
    before = rejected_count(form_runtime)
    response = post(client, {**VALID, field: value, "submission_id": "keep-this-id-123"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error">' in page and expected in page
    assert re.search(rf'id="field-{field}"[^>]*aria-describedby="[^"]*{field}-error"[^>]*'
                     r'aria-invalid="true"', page, re.S)
    assert f'href="#field-{field}"' in page and page.count('class="field-error"') == 1
    for name, typed in VALID.items():
        if name != field:
            assert typed in page  # what the visitor typed is shown again
    assert submission_id(page) == "keep-this-id-123"
    assert queued_envelopes(form_runtime) == [] and rejected_count(form_runtime) == before + 1


def test_typed_values_are_escaped_when_shown_again(client):
    page = post(client, {**VALID, "name": '<script>alert("x")</script>', "email": "bad"}) \
        .get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)" in page


def test_several_errors_at_once_are_all_listed(client):
    page = post(client, {"subject": "only this"}).get_data(as_text=True)
    for field in ("name", "email", "message"):
        assert f'id="{field}-error"' in page
    assert 'value="only this"' in page and "<title>Error: " in page


@pytest.mark.parametrize("address", ["a@b.co", "first.last+tag@sub.example.org",
                                     "müller@bücher.de", "o'brien@example.ie"])
def test_plausible_addresses_are_accepted(address):
    assert email_problem(address) is None


@pytest.mark.parametrize("address", ["a@b", "a@b.c", ".a@b.co", "a..b@c.co", "a@-b.co",
                                     "a@b_c.co", "a<b>@c.co", "a@b.123"])
def test_implausible_addresses_are_refused(address):
    assert email_problem(address)


def test_honeypot_gets_a_fake_receipt_and_nothing_is_queued(client, form_runtime):
    before = rejected_count(form_runtime)
    response = post(client, {**VALID, "website": "http://spam.test"})
    assert response.status_code == 303 and "reference=" in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 200
    assert queued_envelopes(form_runtime) == [] and rejected_count(form_runtime) == before + 1


def test_double_submit_of_one_form_is_one_message(client, form_runtime):
    page = client.get("/contact/demo").get_data(as_text=True)
    data = {**VALID, "submission_id": submission_id(page)}
    first, second = post(client, data), post(client, data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(queued_envelopes(form_runtime)) == 1
    assert post(client, {**data, "submission_id": "another-form-1234"}).status_code == 303
    assert len(queued_envelopes(form_runtime)) == 2


def test_malformed_submission_id_is_an_error_with_a_fresh_id(client, form_runtime):
    page = post(client, {**VALID, "submission_id": "x y"}).get_data(as_text=True)
    assert "Invalid submission id" in page and submission_id(page) != "x y"
    assert queued_envelopes(form_runtime) == []


def upload(data: bytes, filename: str, content_type: str):
    return io.BytesIO(data), filename, content_type


def test_attachments_are_queued_base64_with_their_real_type(client, form_runtime):
    files = [upload(PNG, "shot.png", "image/png"), upload(PDF, "../../etc/bill.pdf",
                                                          "application/octet-stream")]
    response = post(client, {**VALID, "attachments": files}, content_type="multipart/form-data")
    assert response.status_code == 303
    [payload] = queued_payloads(form_runtime)
    assert [(a["filename"], a["content_type"], a["size"]) for a in payload["attachments"]] == [
        ("shot.png", "image/png", len(PNG)), ("bill.pdf", "application/pdf", len(PDF))]


def test_no_file_chosen_is_not_an_attachment(client, form_runtime):
    files = [upload(b"", "", "application/octet-stream")]
    assert post(client, {**VALID, "attachments": files}).status_code == 303
    assert queued_payloads(form_runtime)[0]["attachments"] == []


@pytest.mark.parametrize("files, expected", [
    ([upload(PNG, f"{n}.png", "image/png") for n in range(3)], "Attach at most 2 files"),
    ([upload(PNG + b"\x00" * MAX_BYTES, "big.png", "image/png")], "big.png is larger than 2 KiB"),
    ([upload(EXE, "setup.exe", "application/x-msdownload")],
     "setup.exe is a file of type application/x-msdownload, which is not accepted"),
    ([upload(EXE, "cat.png", "image/png")],  # spoofed: the bytes are a Windows program
     "cat.png is a file of type application/x-msdownload"),
    ([upload(b"<!DOCTYPE html><script>x</script>", "page.pdf", "application/pdf")],
     "page.pdf is a file of type text/html"),
    ([upload(b"\x00\x01\x02binary", "data.pdf", "application/pdf")],
     "application/octet-stream, which is not accepted"),
    ([upload(b"", "empty.txt", "text/plain")], "empty.txt is empty."),
])
def test_attachment_limits(client, form_runtime, files, expected):
    response = post(client, {**VALID, "attachments": files})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and expected in page
    assert 'id="attachments-error"' in page and 'value="Alice"' in page
    assert queued_envelopes(form_runtime) == []


def test_text_claimed_as_an_image_is_stored_as_text(client, form_runtime):
    response = post(client, {**VALID, "attachments": [upload(b"just text", "x.png", "image/png")]})
    assert response.status_code == 303
    assert queued_payloads(form_runtime)[0]["attachments"][0]["content_type"] == "text/plain"


def test_rate_limit_per_ip_shows_a_friendly_page(client, form_runtime):
    statuses = [client.post("/contact/limited", data={**VALID, "email": f"c{n}@x.test"})
                for n in range(4)]
    assert [r.status_code for r in statuses] == [303, 303, 303, 429]
    assert "Too many messages" in statuses[-1].get_data(True)
    assert int(statuses[-1].headers["Retry-After"]) > 0
    assert len(queued_envelopes(form_runtime)) == 3


def test_oversized_form_gets_a_413_page(client):
    files = [upload(b"x" * 400_000, "huge.txt", "text/plain")]
    response = post(client, {**VALID, "attachments": files})
    assert response.status_code == 413 and "too large" in response.get_data(True)


def test_redis_down_is_a_503_page_with_retry_after(down_client):
    assert down_client.get("/contact/demo").status_code == 200
    response = down_client.post("/contact/demo", data=VALID)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "try again" in response.get_data(True) and response.mimetype == "text/html"
