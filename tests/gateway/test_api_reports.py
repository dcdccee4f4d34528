"""``GET /api/v1/reports/summary``: known timelines, driven through the API (replies, notes,
status changes, merges) on SQLite and PostgreSQL with the clock set by the tests, give known
figures, in JSON and CSV, in calendar and business hours; invalid parameters are 400s naming
them."""
from __future__ import annotations

import copy
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from config.workspaces import parse_config
from store import repo
from tests.conftest import TEST_CONFIG
from tests.gateway.apifactory import add_ticket, auth, get

MONDAY = datetime(2024, 5, 6, 8, 0, tzinfo=timezone.utc)  # an hour before the office opens
HOUR, DAY = 3600.0, 86400.0
WEEKDAYS = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
REPORT = "/api/v1/reports/summary?from=2024-05-01&to=2024-05-31"


def office_config(urgent: bool = False, **workspace):
    """The test workspace with an office open 09:00-17:00 UTC on weekdays and SLA targets on
    its hours: 4 h to a first response and 3 days to resolve (medium), 15 min and 4 h
    (urgent) when asked; ``workspace``: more settings of the workspace."""
    data = copy.deepcopy(TEST_CONFIG)
    targets = {"medium": {"first_response": "4h", "resolution": "3d"}, "calendar": "office"}
    if urgent:
        targets["urgent"] = {"first_response": "15m", "resolution": "4h"}
    data["workspaces"][0].update(workspace)
    data["workspaces"][0]["routing"] = {
        "calendars": {"office": {"timezone": "UTC", "hours": WEEKDAYS}},
        "sla": {"default": targets}}
    return parse_config(data)


@pytest.fixture
def test_config():
    return office_config(urgent=True)


class Clock:
    """The time the service layer reads (``utcnow`` of the modules that stamp changes)."""

    MODULES = ("tickets.actions", "tickets.changes", "store.repo")

    def __init__(self, monkeypatch, modules: tuple[str, ...] = ()):
        self.now = MONDAY
        for module in (*self.MODULES, *modules):
            monkeypatch.setattr(f"{module}.utcnow", lambda: self.now)

    def at(self, offset: timedelta) -> None:
        self.now = MONDAY + offset


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def new_ticket(runtime, offset=timedelta(), **values) -> int:
    with runtime.sessions.begin() as session:
        return add_ticket(session, created_at=MONDAY + offset, status="new", **values).number


def reply(client, number: int, text: str = "Hello") -> None:
    response = client.post(f"/api/v1/tickets/{number}/replies", json={"text": text},
                           headers=auth())
    assert response.status_code == 201, response.get_json()


def note(client, number: int) -> None:
    response = client.post(f"/api/v1/tickets/{number}/notes", json={"text": "internal"},
                           headers=auth())
    assert response.status_code == 201, response.get_json()


def set_status(client, number: int, status: str) -> None:
    response = client.patch(f"/api/v1/tickets/{number}", json={"status": status},
                            headers=auth())
    assert response.status_code == 200, response.get_json()


def merge(client, number: int, into: int) -> None:
    response = client.post(f"/api/v1/tickets/{number}/merge", json={"into": into},
                           headers=auth())
    assert response.status_code == 200, response.get_json()


def rows(client, query: str = "") -> list[dict]:
    response = get(client, REPORT + query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["rows"]


def timeline(runtime, client, clock) -> dict[str, int]:
    """Four tickets created Monday 08:00 UTC (the office opens at 09:00, Mon-Fri):

    - ``plain``: a note at 08:30 (no response), a reply at 10:00, resolved Tuesday 08:00.
    - ``reopened``: a reply at 09:00, resolved at 12:00, reopened Tuesday, resolved again
      Wednesday 08:00 (the last resolution counts), then closed.
    - ``merged``: replied at 08:10, merged into ``plain``: left out of the report.
    - ``waiting``: never answered, still open; breaches its 4 h first-response target.
    """
    numbers = {name: new_ticket(runtime) for name in ("plain", "reopened", "merged", "waiting")}
    clock.at(timedelta(minutes=10))
    reply(client, numbers["merged"])
    clock.at(timedelta(minutes=30))
    note(client, numbers["plain"])
    clock.at(timedelta(hours=1))
    reply(client, numbers["reopened"])
    clock.at(timedelta(hours=2))
    reply(client, numbers["plain"])
    merge(client, numbers["merged"], numbers["plain"])
    clock.at(timedelta(hours=4))
    set_status(client, numbers["reopened"], "resolved")
    clock.at(timedelta(days=1))
    set_status(client, numbers["plain"], "resolved")
    clock.at(timedelta(days=1, hours=2))
    set_status(client, numbers["reopened"], "open")
    clock.at(timedelta(days=2))
    set_status(client, numbers["reopened"], "resolved")
    set_status(client, numbers["reopened"], "closed")
    clock.at(timedelta(days=2, hours=1))
    with runtime.sessions.begin() as session:  # the sweep's pass after the 4 h target
        from tickets import sla_clock
        ws = repo.workspace_row(session, "demo")
        ticket = repo.ticket_by_number(session, ws.id, numbers["waiting"])
        sla_clock.flag_breaches(ticket, runtime.config.workspace("demo").routing, clock.now)
    return numbers


def test_a_known_timeline_gives_known_figures_in_calendar_hours(runtime, client, clock):
    timeline(runtime, client, clock)
    assert rows(client) == [{
        "group": "2024-05-06", "created": 3, "resolved": 2, "reopened": 1, "backlog": 1,
        "first_response": {"count": 2, "p50_s": 1.5 * HOUR, "p90_s": 1.9 * HOUR,
                           "mean_s": 1.5 * HOUR},
        "resolution": {"count": 2, "p50_s": 1.5 * DAY, "p90_s": 1.9 * DAY, "mean_s": 1.5 * DAY},
        "sla": {"met": 2, "breached": 1}}]


def test_business_hours_count_only_the_office_hours(runtime, client, clock):
    timeline(runtime, client, clock)
    [row] = rows(client, "&hours=business")
    # First responses: 08:00-09:00 is closed, so 0 s and 1 h; resolutions: Monday 09:00-17:00
    # (8 h) and Monday + Tuesday (16 h).
    assert row["first_response"] == {"count": 2, "p50_s": 0.5 * HOUR, "p90_s": 0.9 * HOUR,
                                     "mean_s": 0.5 * HOUR}
    assert row["resolution"] == {"count": 2, "p50_s": 12 * HOUR, "p90_s": 15.2 * HOUR,
                                 "mean_s": 12 * HOUR}


def test_groups_by_priority_agent_tag_channel_and_week(runtime, client, clock):
    new_ticket(runtime, priority="urgent", tags=["billing", "vip"], assignee="alice")
    new_ticket(runtime, timedelta(days=7), tags=["billing"], channel="chat")
    new_ticket(runtime, timedelta(days=8))

    def groups(by: str) -> dict[str, int]:
        return {r["group"]: r["created"] for r in rows(client, f"&group_by={by}")}

    assert groups("priority") == {"medium": 2, "urgent": 1}
    assert groups("agent") == {"": 2, "alice": 1}
    assert groups("tag") == {"": 1, "billing": 2, "vip": 1}
    assert groups("channel") == {"chat": 1, "email": 2}
    assert groups("week") == {"2024-05-06": 1, "2024-05-13": 2}
    assert groups("day") == {"2024-05-06": 1, "2024-05-13": 1, "2024-05-14": 1}


def test_days_are_local_days_of_tz_and_the_range_is_the_cohort(runtime, client):
    new_ticket(runtime, timedelta(hours=15))  # Monday 23:00 UTC: Tuesday 01:00 in Prague
    new_ticket(runtime, timedelta(days=-6))   # April 30: before the range
    assert [r["group"] for r in rows(client)] == ["2024-05-06"]
    assert [r["group"] for r in rows(client, "&tz=Europe/Prague")] == ["2024-05-07"]
    response = get(client, "/api/v1/reports/summary?from=2024-05-06T23:30:00Z"
                           "&to=2024-05-07T02:00:00%2B02:00")
    assert response.get_json()["rows"] == []


def test_a_follow_up_ticket_is_measured_from_its_own_creation(runtime, client, clock):
    first = new_ticket(runtime)
    clock.at(timedelta(hours=1))
    reply(client, first)
    set_status(client, first, "closed")
    follow_up = new_ticket(runtime, timedelta(days=3))
    with runtime.sessions.begin() as session:
        ws = repo.workspace_row(session, "demo")
        repo.ticket_by_number(session, ws.id, follow_up).follow_up_of_id = (
            repo.ticket_by_number(session, ws.id, first).id)
    clock.at(timedelta(days=3, minutes=5))
    reply(client, follow_up)
    [row] = rows(client, "&group_by=channel")
    assert (row["created"], row["reopened"], row["resolved"], row["backlog"]) == (2, 0, 1, 1)
    assert row["first_response"]["count"] == 2
    assert row["first_response"]["mean_s"] == (HOUR + 300) / 2


def test_postponing_is_no_reopen_and_no_resolution(runtime, client, clock):
    number = new_ticket(runtime)
    clock.at(timedelta(hours=1))
    set_status(client, number, "postponed")
    clock.at(timedelta(hours=5))
    set_status(client, number, "open")
    [row] = rows(client)
    assert (row["reopened"], row["resolved"], row["backlog"]) == (0, 0, 1)
    assert row["resolution"] == {"count": 0, "p50_s": None, "p90_s": None, "mean_s": None}


def test_csv_has_one_column_per_figure(runtime, client, clock):
    timeline(runtime, client, clock)
    response = client.get(REPORT, headers={**auth(), "Accept": "text/csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["group"] == "2024-05-06"
    assert (row["created"], row["reopened"], row["sla_breached"]) == ("3", "1", "1")
    assert float(row["first_response_p50_s"]) == 1.5 * HOUR
    assert float(row["resolution_mean_s"]) == 1.5 * DAY


def test_csv_cells_never_start_a_formula(runtime, client):
    new_ticket(runtime, tags=["=HYPERLINK(1)"])
    response = client.get(REPORT + "&group_by=tag", headers={**auth(), "Accept": "text/csv"})
    assert "'=HYPERLINK(1)" in response.get_data(as_text=True)


def test_json_is_the_default_and_another_workspace_sees_nothing(runtime, client):
    new_ticket(runtime)
    response = client.get(REPORT, headers={**auth(), "Accept": "*/*"})
    assert response.mimetype == "application/json"
    assert get(client, REPORT, "acme").get_json() == {"rows": []}


@pytest.mark.parametrize("query, fields", [
    ("group_by=month", ["group_by"]),
    ("hours=wall", ["hours"]),
    ("tz=Mars/Olympus", ["tz"]),
    ("from=yesterday&to=2024-13-01", ["from", "to"]),
    ("from=2024-05-02&to=2024-05-01", ["to"]),
    ("from=2023-01-01&to=2024-05-01", ["to"]),
    ("from=0001-01-01T00:00:00%2B14:00", ["from"]),
])
def test_invalid_parameters_are_named(sqlite_runtime, api_keys, query, fields):
    from gateway.web import create_app
    client = create_app(sqlite_runtime).test_client()
    response = get(client, f"/api/v1/reports/summary?{query}")
    assert response.status_code == 400
    assert sorted(response.get_json()["error"]["fields"]) == fields


def test_a_whole_year_is_allowed(runtime, client):
    response = get(client, "/api/v1/reports/summary?from=2024-01-01&to=2024-12-31"
                           "&tz=America/New_York")
    assert response.status_code == 200


@pytest.mark.parametrize("group_by", ["day", "week", "channel", "priority", "agent", "tag"])
@pytest.mark.parametrize("hours", ["calendar", "business"])
def test_the_sql_and_the_python_aggregation_agree(runtime, client, clock, group_by, hours):
    from zoneinfo import ZoneInfo

    from tickets import reports
    timeline(runtime, client, clock)
    new_ticket(runtime, timedelta(days=9, hours=20), priority="urgent", tags=["a", "b"],
               assignee="alice", channel="chat")
    query = reports.SummaryQuery(MONDAY - timedelta(days=5), MONDAY + timedelta(days=20),
                                 group_by, ZoneInfo("Asia/Tokyo"), "Asia/Tokyo", hours)
    with runtime.read_sessions() as session:
        ws = repo.workspace_row(session, "demo")
        in_python = reports.summary_in_python(session, ws.id, query)
        if runtime.sessions.kw["bind"].dialect.name != "postgresql":
            assert in_python == reports.summary(session, ws.id, query)
            return
        assert reports.summary_in_sql(session, ws.id, query) == in_python
