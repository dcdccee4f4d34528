"""Properties of the agents and PATCH endpoints: any JSON body is applied or refused with a
clear 4xx in the error shape, never a 500 (PostgreSQL included: NUL bytes, huge numbers)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.routing_store.helpers import patch, put_agent, routed_ticket

PROPERTY_SETTINGS = settings(max_examples=120, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=20))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                           | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8)
levels = st.dictionaries(st.text(max_size=12), st.integers(-2, 7) | json_values, max_size=3)
counts = st.dictionaries(st.sampled_from(["email", "chat", "form", "telegram", "fax", ""]),
                         st.integers(-2, 2**64) | json_values, max_size=3)
agents = st.fixed_dictionaries({}, optional={
    "name": st.text(max_size=400) | json_values, "email": st.emails() | st.text(max_size=30),
    "skills": levels | json_values, "capacity": counts | json_values,
    "status": st.sampled_from(["online", "away", "offline", "busy"]) | json_values,
    "departments": st.lists(st.text(max_size=5), max_size=3) | json_values,
    "total": st.floats() | st.integers() | json_values, "calendar": st.sampled_from(
        ["office", "", "x"]) | json_values, "load": json_values, "extra": json_values})
patches = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["new", "open", "resolved", "closed", "spam", "x"]) | json_values,
    "priority": st.sampled_from(["low", "urgent", "x"]) | json_values,
    "assignee": st.sampled_from(["alice", "bob", "nobody", None, ""]) | json_values,
    "tags": st.lists(st.text(max_size=60), max_size=4) | json_values,
    "author": st.text(max_size=120) | json_values, "extra": json_values})
CLEAR = {400, 404, 409}


def check(response, ok: set[int]) -> None:
    assert response.status_code in ok | CLEAR, (response.status_code,
                                                response.get_data(as_text=True)[:300])
    if response.status_code in CLEAR:
        error = response.get_json()["error"]
        assert error["code"] and error["message"] and isinstance(error["fields"], dict)


def test_any_agent_body_is_stored_or_refused_clearly(client):
    @PROPERTY_SETTINGS
    @given(body=agents | json_values)
    def put(body):
        check(put_agent(client, "carol", body), {200, 201})
    put()


def test_any_patch_is_applied_or_refused_clearly(rt_client):
    rt, client = rt_client
    numbers = [routed_ticket(rt) for _ in range(3)]

    @PROPERTY_SETTINGS
    @given(number=st.sampled_from(numbers), body=patches | json_values)
    def change(number, body):
        check(patch(client, number, body), {200})
    change()
