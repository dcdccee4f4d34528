"""Properties of the contact form edge: any input is accepted or refused clearly (never a 500),
and every payload it accepts is one the worker-side adapter turns into an event."""
from __future__ import annotations

import base64
import hashlib
import json

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rq import Queue

from channels import form as adapter
from queues.intake import RAW_KEY
from tests.gateway import form_fixtures
from tests.gateway.form_fixtures import PDF, PNG

# the fixtures of this module (defined in form_fixtures.py)
client = form_fixtures.client
form_runtime = form_fixtures.form_runtime


CLEAR_4XX = {400, 403, 404, 409, 413, 415, 429}
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = st.sampled_from(["name", "email", "subject", "message", "attachments", "website",
                        "submission_id", "extra"])
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                           | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8)
emails = st.one_of(st.emails(), st.emails(), st.emails(), st.text(max_size=30))
words = st.text(min_size=1, max_size=40).filter(str.strip)
attachment = st.fixed_dictionaries(
    {"data": st.one_of(st.sampled_from([PNG, PDF, b"text", b"\x00\x01"]), st.binary(max_size=64))
     .map(lambda b: base64.b64encode(b).decode())},
    optional={"filename": st.text(max_size=20), "content_type": st.text(max_size=20)})
plausible = st.fixed_dictionaries(
    {"name": words, "email": emails, "message": st.text(max_size=200) | words},
    optional={"subject": st.text(max_size=60), "attachments": st.lists(attachment, max_size=3),
              "submission_id": st.text(alphabet="abcdefghij0123456789-_", max_size=20)})


def queued(runtime) -> list[dict]:
    return [e for job in Queue("form", connection=runtime.redis).jobs for e in job.args[0]]


def check_answer(response, runtime, before: int) -> None:
    """202 with a reference (and an event-able payload when something was queued) or a 4xx."""
    assert response.status_code == 202 or response.status_code in CLEAR_4XX, \
        (response.status_code, response.get_data(as_text=True)[:300])
    event(f"status {response.status_code}")
    body = response.get_json()
    if response.status_code != 202:
        assert body["error"]["code"] and body["error"]["message"]
        return
    assert body["status"] == "accepted" and len(body["reference"]) == 12
    for envelope in queued(runtime)[before:]:
        raw = runtime.redis.get(RAW_KEY + envelope["raw_ref"])
        parsed = adapter.parse(raw, workspace="demo", account="form", received_at="now",
                               raw_ref=hashlib.sha256(raw).hexdigest())
        assert parsed.event.sender.address and parsed.event.text == json.loads(raw)["message"]


@PROPERTY_SETTINGS
@given(body=st.one_of(st.dictionaries(KEYS, json_values, max_size=8), plausible, json_values))
def test_any_json_body_is_accepted_or_refused_clearly(client, form_runtime, body):
    before = len(queued(form_runtime))
    response = client.post("/contact/demo/submit.json", data=json.dumps(body),
                           content_type="application/json")
    check_answer(response, form_runtime, before)


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=300))
def test_any_bytes_as_json_are_refused_clearly(client, form_runtime, body):
    response = client.post("/contact/demo", data=body, content_type="application/json")
    check_answer(response, form_runtime, len(queued(form_runtime)))


@PROPERTY_SETTINGS
@given(fields=st.dictionaries(KEYS, st.text(max_size=120), max_size=8) | plausible.map(
    lambda d: {k: v for k, v in d.items() if k != "attachments"}))
def test_any_form_fields_redirect_or_show_errors(client, form_runtime, fields):
    before = len(queued(form_runtime))
    html = client.post("/contact/demo", data=fields)
    assert html.status_code in (303, 400, 409), html.status_code
    if html.status_code == 400:
        assert 'class="field-error"' in html.get_data(as_text=True) or \
            "error-summary" in html.get_data(as_text=True)
    as_json = client.post("/contact/demo", data=fields, headers={"Accept": "application/json"})
    check_answer(as_json, form_runtime, before)
