"""``GET /api/v1/reports/agents``: a known timeline driven through the API (agents put online
and offline, tickets assigned, reassigned, replied to, noted, resolved, reopened, merged) on
SQLite and PostgreSQL with the clock set by the tests gives known figures per agent, in JSON
and CSV, in calendar and business hours; invalid parameters are 400s naming them; another
workspace sees none of it."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from store import repo
from tests.gateway.apifactory import auth, get
from tests.gateway.test_api_reports import (DAY, HOUR, Clock, merge, new_ticket, note,
                                            office_config, reply, set_status)
from tickets import sla_clock

REPORT = "/api/v1/reports/agents?from=2024-05-01&to=2024-05-31"


@pytest.fixture
def test_config():
    """The office open 09:00-17:00 UTC on weekdays; 4 h to a first response (medium)."""
    return office_config()


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, ("tickets.agents",))


def put_agent(client, key: str, status: str, email: int) -> None:
    response = client.put(f"/api/v1/agents/{key}", headers=auth(),
                          json={"name": key.title(), "status": status,
                                "capacity": {"email": email}})
    assert response.status_code in (200, 201), response.get_json()


def assign(client, number: int, key: str) -> None:
    response = client.patch(f"/api/v1/tickets/{number}", json={"assignee": key},
                            headers=auth())
    assert response.status_code == 200, response.get_json()


def agent_reply(client, number: int, author: str) -> None:
    response = client.post(f"/api/v1/tickets/{number}/replies",
                           json={"text": "Hello", "author": author}, headers=auth())
    assert response.status_code == 201, response.get_json()


def sweep(runtime, number: int, now) -> None:
    """The SLA sweep's pass over one ticket (flags a target that passed)."""
    with runtime.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo")
        ticket = repo.ticket_by_number(session, ws.id, number)
        sla_clock.flag_breaches(ticket, runtime.config.workspace("demo").routing, now)


def timeline(runtime, client, clock) -> dict[str, int]:
    """Monday 08:00 UTC (the office opens at 09:00, Mon-Fri), four tickets created then:

    - 00:00 alice online (2 emails), bob offline (4 emails); ``a`` and ``b`` assigned to alice.
    - 01:00 alice replies to ``a`` and notes ``b`` (no reply); 02:00 bob comes online, ``b``
      is reassigned to him, ``c`` assigned to him; he replies to ``b``; 02:10 he replies to
      ``d`` (nobody's), 03:00 ``d`` is merged into ``c``; alice replies to ``a`` again.
    - 04:00 ``a`` resolved (alice's), alice goes offline.
    - Tuesday 08:00: ``c`` breached its 4 h first response, bob resolves ``b`` and ``c``
      and goes offline; 10:00 ``b`` is reopened and handed to alice (offline);
      Wednesday 08:00 ``b`` resolved again: alice's, its last resolution.
    """
    put_agent(client, "alice", "online", 2)
    put_agent(client, "bob", "offline", 4)
    t = {name: new_ticket(runtime) for name in ("a", "b", "c", "d")}
    assign(client, t["a"], "alice")
    assign(client, t["b"], "alice")
    clock.at(timedelta(hours=1))
    agent_reply(client, t["a"], "alice")
    note(client, t["b"])
    clock.at(timedelta(hours=2))
    put_agent(client, "bob", "online", 4)
    assign(client, t["b"], "bob")
    assign(client, t["c"], "bob")
    agent_reply(client, t["b"], "bob")
    clock.at(timedelta(hours=2, minutes=10))
    agent_reply(client, t["d"], "bob")
    clock.at(timedelta(hours=3))
    merge(client, t["d"], t["c"])
    agent_reply(client, t["a"], "alice")
    clock.at(timedelta(hours=4))
    set_status(client, t["a"], "resolved")
    put_agent(client, "alice", "offline", 2)
    clock.at(timedelta(days=1))
    sweep(runtime, t["c"], clock.now)
    set_status(client, t["b"], "resolved")
    set_status(client, t["c"], "resolved")
    put_agent(client, "bob", "offline", 4)
    clock.at(timedelta(days=1, hours=2))
    set_status(client, t["b"], "open")
    assign(client, t["b"], "alice")
    clock.at(timedelta(days=2))
    set_status(client, t["b"], "resolved")
    return t


def rows(client, query: str = "", slug: str = "demo") -> dict[str, dict]:
    response = get(client, REPORT + query, slug)
    assert response.status_code == 200, response.get_json()
    return {row["agent"]: row for row in response.get_json()["rows"]}


def stats(*values: float) -> dict:
    """count, p50, p90, mean of one or two values (linear interpolation)."""
    low, high = min(values), max(values)
    return {"count": len(values), "p50_s": round((low + high) / 2, 3),
            "p90_s": round(low + 0.9 * (high - low), 3),
            "mean_s": round(sum(values) / len(values), 3)}


def test_a_known_timeline_gives_known_figures_per_agent(runtime, client, clock):
    timeline(runtime, client, clock)
    found = rows(client)
    assert sorted(found) == ["alice", "bob"]
    assert found["alice"] == {
        "agent": "alice", "name": "Alice", "assigned": 2, "resolved": 2, "handled": 2,
        "replies": 2, "first_response": stats(HOUR), "resolution": stats(4 * HOUR, 2 * DAY),
        "sla": {"met": 2, "breached": 0},
        # online 00:00-04:00 holding two of two emails until 02:00, then one
        "online_s": 4 * HOUR, "occupancy": 0.75}
    assert found["bob"] == {
        "agent": "bob", "name": "Bob", "assigned": 2, "resolved": 1, "handled": 2,
        # his reply to the merged ticket counts; its first response does not
        "replies": 2, "first_response": stats(2 * HOUR), "resolution": stats(DAY),
        "sla": {"met": 0, "breached": 1},
        # online 02:00-Tuesday 08:00 holding two of four emails
        "online_s": 22 * HOUR, "occupancy": 0.5}


def test_business_hours_count_only_the_office_hours(runtime, client, clock):
    timeline(runtime, client, clock)
    found = rows(client, "&hours=business")
    # a: replied at 09:00 (0 s open), resolved 12:00 (3 h); b: Monday and Tuesday (16 h)
    assert found["alice"]["first_response"] == stats(0.0)
    assert found["alice"]["resolution"] == stats(3 * HOUR, 16 * HOUR)
    assert found["bob"]["first_response"] == stats(HOUR)
    assert found["bob"]["resolution"] == stats(8 * HOUR)
    assert found["alice"]["occupancy"] == 0.75  # online time is wall-clock


def test_a_range_counts_what_happened_within_it(runtime, client, clock):
    timeline(runtime, client, clock)
    # Monday 09:00-11:00 UTC: alice's first reply, bob's arrival and reply, the reassignment
    response = get(client, "/api/v1/reports/agents?from=2024-05-06T09:00:00Z"
                           "&to=2024-05-06T11:00:00Z")
    found = {row["agent"]: row for row in response.get_json()["rows"]}
    assert (found["alice"]["replies"], found["alice"]["assigned"]) == (1, 0)
    assert (found["bob"]["replies"], found["bob"]["assigned"]) == (2, 2)
    assert found["alice"]["resolved"] == found["bob"]["resolved"] == 0
    # alice: 2/2 for an hour, 1/2 the next; bob online from 10:00, 2/4
    assert (found["alice"]["online_s"], found["alice"]["occupancy"]) == (2 * HOUR, 0.75)
    assert (found["bob"]["online_s"], found["bob"]["occupancy"]) == (HOUR, 0.5)


def test_an_agent_never_online_has_no_occupancy_and_unnamed_replies_get_a_row(runtime, client,
                                                                               clock):
    put_agent(client, "carol", "away", 3)
    number = new_ticket(runtime)
    clock.at(timedelta(hours=1))
    reply(client, number)  # no author
    found = rows(client)
    assert found["carol"]["online_s"] == 0 and found["carol"]["occupancy"] is None
    assert found[""]["replies"] == 1 and found[""]["first_response"]["count"] == 1
    assert found[""]["name"] == "" and found[""]["occupancy"] is None


def test_csv_has_one_column_per_figure(runtime, client, clock):
    timeline(runtime, client, clock)
    response = client.get(REPORT, headers={**auth(), "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [line["agent"] for line in lines] == ["alice", "bob"]
    alice = lines[0]
    assert (alice["assigned"], alice["replies"], alice["sla_met"]) == ("2", "2", "2")
    assert float(alice["resolution_p50_s"]) == DAY + 2 * HOUR
    assert float(alice["occupancy"]) == 0.75 and float(alice["online_s"]) == 4 * HOUR


def test_csv_cells_never_start_a_formula(runtime, client, clock):
    number = new_ticket(runtime)
    agent_reply(client, number, "=cmd")
    response = client.get(REPORT, headers={**auth(), "Accept": "text/csv"})
    assert "'=cmd" in response.get_data(as_text=True)


def test_another_workspace_sees_nothing(runtime, client, clock):
    timeline(runtime, client, clock)
    assert rows(client, slug="acme") == {}


def test_an_api_key_is_required(runtime, client):
    assert client.get(REPORT).status_code == 401
    assert client.get(REPORT, headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize("query, fields", [
    ("hours=wall", ["hours"]),
    ("tz=Mars/Olympus", ["tz"]),
    ("from=yesterday&to=2024-13-01", ["from", "to"]),
    ("from=2024-05-02&to=2024-05-01", ["to"]),
    ("from=2023-01-01&to=2024-05-01", ["to"]),
    ("from=0001-01-01T00:00:00%2B14:00", ["from"]),
    ("hours=x&from=2024-05-02&to=2024-05-01", ["hours", "to"]),
])
def test_invalid_parameters_are_named(sqlite_runtime, api_keys, query, fields):
    from gateway.web import create_app
    client = create_app(sqlite_runtime).test_client()
    response = get(client, f"/api/v1/reports/agents?{query}")
    assert response.status_code == 400
    assert sorted(response.get_json()["error"]["fields"]) == fields


def test_a_capacity_change_while_holding_and_an_open_assignment_count_exactly(runtime, client,
                                                                             clock):
    """alice (2 emails) holds one from 08:30; at 09:15 she gets room for 4; it is resolved at
    10:00; another is hers from 10:30, still open when the report is read."""
    put_agent(client, "alice", "online", 2)
    first, second = new_ticket(runtime), new_ticket(runtime)
    clock.at(timedelta(minutes=30))
    assign(client, first, "alice")
    clock.at(timedelta(minutes=75))
    put_agent(client, "alice", "online", 4)
    clock.at(timedelta(hours=2))
    set_status(client, first, "resolved")
    clock.at(timedelta(hours=2, minutes=30))
    assign(client, second, "alice")
    response = get(client, "/api/v1/reports/agents?from=2024-05-06T08:00:00Z"
                           "&to=2024-05-06T11:00:00Z")
    [alice] = response.get_json()["rows"]
    # 45 min at 1/2, 45 min at 1/4, 30 min at 1/4 over 3 h online
    assert alice["online_s"] == 3 * HOUR
    assert alice["occupancy"] == round((0.75 * 0.5 + 0.75 * 0.25 + 0.5 * 0.25) / 3, 4)
