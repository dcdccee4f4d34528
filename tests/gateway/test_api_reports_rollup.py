"""``GET /api/v1/reports/summary`` from the rollup (the exact bound set to 0, so every range
is read from it): the known timeline of ``test_api_reports`` (replies, a note, a merge, a
reopen, a breach), driven through the API on SQLite and PostgreSQL, gives the ticket rows'
figures, in JSON and in CSV, for every group and both hours modes."""
from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from store import repo
from tests.gateway.apifactory import auth
from tests.gateway import test_api_reports as known
from tests.gateway.test_api_reports import REPORT, rows, timeline
from tests.store.test_report_rollup import assert_agree
from tickets import reports
from tickets.reports import SummaryQuery
from gateway.api.reports import summary_query


test_config, clock = known.test_config, known.clock  # the known timeline's fixtures


@pytest.fixture
def through_the_rollup(monkeypatch):
    monkeypatch.setattr(reports, "EXACT_MAX", 0)


@pytest.mark.parametrize("group_by", reports.GROUPS)
@pytest.mark.parametrize("hours", reports.HOURS)
def test_the_rollup_gives_the_rows_figures(runtime, client, clock, through_the_rollup,
                                            group_by, hours):
    timeline(runtime, client, clock)
    query = f"&group_by={group_by}&hours={hours}&tz=Asia/Kolkata"
    with runtime.read_sessions() as session:
        ws = repo.workspace_row(session, "demo")
        exact = reports.summary_in_python(session, ws.id, _parsed(REPORT + query))
    assert exact and exact[0]["created"] > 0
    rolled = rows(client, query)
    assert_agree(rolled, exact)
    table = _csv(client, REPORT + query)
    assert [(r["group"], int(r["created"]), int(r["resolved"])) for r in table] == [
        (r["group"], r["created"], r["resolved"]) for r in rolled]


def _csv(client, url: str) -> list[dict]:
    response = client.get(url, headers={"Accept": "text/csv", **auth()})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.data.decode())))


def _parsed(url: str) -> SummaryQuery:
    args = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    query = summary_query(args)
    assert query.tz == ZoneInfo(args["tz"])
    return query
