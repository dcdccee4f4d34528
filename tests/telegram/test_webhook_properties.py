"""Property: whatever JSON (or bytes) Telegram's webhook receives with the right secret, the
answer is 200 or a clear 4xx JSON error, never a 500, and only updates are enqueued."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.telegram.test_webhook import post, queued

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=20)
ALMOST_UPDATES = st.fixed_dictionaries({"update_id": st.integers(0, 2**40) | JSON_VALUES},
                                       optional={"message": JSON_VALUES,
                                                 "edited_message": JSON_VALUES})
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(data=JSON_VALUES | ALMOST_UPDATES)
def test_any_json_is_200_or_a_clear_400(client, redis_conn, data):
    before = len(queued(redis_conn))
    response = post(client, json.dumps(data).encode())
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    body = response.get_json()
    if response.status_code == 400:
        assert body["error"]["code"] in ("invalid_json", "not_an_update")
        assert len(queued(redis_conn)) == before
    else:
        assert body["status"] in ("accepted", "duplicate")
        # JSON has numbers, not ints: an integral number is an update id (5.0 is 5, as JSON
        # Schema counts it and gateway.json_input reads it).
        update_id = data["update_id"]
        assert isinstance(update_id, (int, float)) and not isinstance(update_id, bool)
        assert float(update_id).is_integer()


@PROPERTY
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_200_or_a_clear_400(client, redis_conn, raw):
    response = post(client, raw)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert response.is_json
