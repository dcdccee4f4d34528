"""docs/grafana-dashboard.json asks only for series that /metrics serves (after a real day of
work), through the Prometheus data source chosen at import, with variables it defines."""
from __future__ import annotations

import json
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.settings import PROJECT_DIR
from gateway.web import create_app
from tests.ops.scenario import configure, day_of_work

DASHBOARD = json.loads((PROJECT_DIR / "docs" / "grafana-dashboard.json").read_text())
SERIES = re.compile(r"\bticketgate_[a-z_]+")


def panels() -> list[dict]:
    return [p for p in DASHBOARD["panels"] if p["type"] != "row"]


def expressions() -> list[str]:
    return [target["expr"] for panel in panels() for target in panel["targets"]]


@pytest.fixture
def scraped(sqlite_runtime, api_keys) -> str:
    """What /metrics serves after the scenario's day of work."""
    rt = configure(sqlite_runtime)
    client = create_app(rt).test_client()
    day_of_work(rt, client)
    return client.get("/metrics").get_data(as_text=True)


def test_every_series_the_dashboard_queries_is_served(scraped):
    served = {sample.name for family in text_string_to_metric_families(scraped)
              for sample in family.samples}
    asked = {name for expr in expressions() for name in SERIES.findall(expr)}
    assert asked and asked <= served, sorted(asked - served)
    for name in ("ticketgate_first_response_seconds_bucket", "ticketgate_resolution_seconds_count",
                 "ticketgate_queue_depth", "ticketgate_failed_jobs", "ticketgate_workers"):
        assert name in asked


def test_bucket_bounds_the_dashboard_names_exist(scraped):
    bounds = set(re.findall(r'le="([^"]+)"', scraped))
    for expr in expressions():
        for bound in re.findall(r'le="([^"]+)"', expr):
            assert bound in bounds, expr


def test_panels_use_the_data_source_chosen_at_import():
    [source] = DASHBOARD["__inputs"]
    assert source["pluginId"] == "prometheus"
    for panel in panels():
        assert panel["datasource"]["uid"] == "${%s}" % source["name"]
        assert all(t["datasource"] == panel["datasource"] for t in panel["targets"])


def test_ids_are_unique_and_every_variable_used_is_defined():
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    defined = {v["name"] for v in DASHBOARD["templating"]["list"]} | {"__rate_interval"}
    used = {name for text in [*expressions(), *(p["title"] for p in panels())]
            for name in re.findall(r"\$(\w+)", text)}
    assert used <= defined, sorted(used - defined)
