"""Random JSON and garbage at every JSON endpoint of every public edge and of the REST API, random
forms at the form endpoints, random bytes in paths, queries and the chat session header: the
answer is never a 5xx. Bodies mix the fields each endpoint reads (with values of any type) with
arbitrary JSON, raw bytes, and JSON text with bytes spliced in. Derandomized, bounded.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.api_fuzz.endpoints import ALL, Endpoint, basic_auth, bearer, error_of, post

EXAMPLES = 40  # per endpoint
FIELDS = ("text", "html", "author", "attachments", "into", "status", "priority", "assignee",
          "tags", "agent", "name", "email", "skills", "capacity", "departments", "total",
          "calendar", "subject", "message", "website", "submission_id", "conversation_id",
          "message_id", "visitor", "sent_at", "update_id", "From", "FromFull", "RawEmail",
          "OriginalRecipient", "Headers", "Attachments", "filename", "content_type", "content",
          "data", "id", "url", "content_base64")
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=30) | st.sampled_from(["", " ", "\r\n", "\x00", "alice", "open",
                                                     "a@b.test", "aGk=", "1e400"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner,
                                        max_size=4), max_leaves=12)
OBJECTS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6)


def as_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def spliced(draw) -> bytes:
    """Valid JSON with random bytes put in at one place."""
    text = as_json(draw(OBJECTS))
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]


BODIES = (OBJECTS.map(as_json) | VALUES.map(as_json) | st.binary(max_size=200) | spliced())


@pytest.mark.parametrize("endpoint", ALL, ids=str)
def test_random_bodies_never_get_a_server_error(fuzz_app, endpoint):
    client = fuzz_app.test_client()

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(body=BODIES)
    def check(body):
        response = post(client, endpoint, body)
        assert response.status_code < 500, (body[:200], response.get_data()[:300])
        if response.status_code >= 400 and response.is_json:
            error_of(response)

    check()


FORMS = [Endpoint("contact form", "post", "/contact/demo"),
         Endpoint("contact form to json", "post", "/contact/demo/submit.json"),
         Endpoint("sendgrid", "post", "/hooks/inbound/sendgrid/demo", basic_auth()),
         Endpoint("mailgun", "post", "/hooks/inbound/mailgun/demo"),
         Endpoint("mailgun mime", "post", "/hooks/inbound/mailgun/demo/mime")]
FORM_FIELDS = ("name", "email", "subject", "message", "website", "submission_id", "from", "to",
               "envelope", "charsets", "attachment-info", "headers", "email", "text", "html",
               "message-headers", "recipient", "sender", "body-mime", "timestamp", "token",
               "signature", "attachments")
FORM_VALUES = st.text(max_size=40) | st.sampled_from(["{}", "[]", '{"to": ["a@b.test"]}',
                                                      "[" * 40, "\x00", "a@b.test", "1e400"])
GARBAGE_TYPES = st.sampled_from(["multipart/form-data; boundary=xyz", "multipart/form-data",
                                 "application/x-www-form-urlencoded", "text/plain",
                                 "multipart/form-data; boundary=" + "x" * 300])


@pytest.mark.parametrize("endpoint", FORMS, ids=str)
def test_random_forms_never_get_a_server_error(fuzz_app, endpoint):
    client = fuzz_app.test_client()

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(fields=st.dictionaries(st.sampled_from(FORM_FIELDS), FORM_VALUES, max_size=6),
           raw=st.none() | st.binary(max_size=300), content_type=GARBAGE_TYPES)
    def check(fields, raw, content_type):
        send = getattr(client, endpoint.method)
        if raw is None:
            response = send(endpoint.path, data=fields, headers=endpoint.headers)
        else:
            response = send(endpoint.path, data=raw,
                            headers={**endpoint.headers, "Content-Type": content_type})
        assert response.status_code < 500, response.get_data()[:300]

    check()


GETS = ["/api/v1/tickets", "/api/v1/customers", "/api/v1/quarantine", "/api/v1/agents/{}",
        "/api/v1/agents/{}/offers", "/chat/{}", "/chat/demo/messages", "/contact/{}",
        "/contact/demo/thanks", "/healthz"]
QUERY_NAMES = ("status", "channel", "assignee", "customer", "q", "tag", "limit", "cursor",
               "since", "reference")


@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(GETS), segment=st.binary(min_size=1, max_size=20),
       query=st.lists(st.tuples(st.sampled_from(QUERY_NAMES), st.binary(max_size=30)),
                      max_size=4),
       session=st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=255),
                                   max_size=60))
def test_random_paths_queries_and_headers_never_get_a_server_error(fuzz_app, path, segment,
                                                                     query, session):
    """Invalid UTF-8, NUL and control bytes in a path segment or query value, any session."""
    url = path.format(quote(segment, safe="")) + "?" + "&".join(
        f"{name}={quote(value, safe='')}" for name, value in query)
    headers = {**bearer(), **({"X-Chat-Session": session} if session is not None else {})}
    response = fuzz_app.test_client().get(url, headers=headers)
    assert response.status_code < 500, (url, response.get_data()[:300])
