"""Random JSON and garbage at every JSON endpoint of every public edge and of the REST API: the
answer is never a 5xx. Bodies mix the fields each endpoint reads (with values of any type) with
arbitrary JSON, raw bytes, and JSON text with bytes spliced in. Derandomized, bounded.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.api_fuzz.endpoints import ALL, error_of, post

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
