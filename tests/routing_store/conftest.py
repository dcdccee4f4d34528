"""Fixtures of the store-backed routing tests: the demo workspace with a routing block (two
online agents seeded from the file, an always-open calendar, an SLA policy, a webhook to see
pushed events), the API client of tests/conftest.py on the full runtime (SQLite and
PostgreSQL), and tickets routed through ``tickets.assign`` as the pipeline would."""
from __future__ import annotations

import copy

import pytest

from config.workspaces import parse_config
from tests.conftest import TEST_CONFIG

WEBHOOK_URL = "http://127.0.0.1:9/core"  # never called: the tests read the enqueued job
ALWAYS = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
AGENTS = [
    {"id": "alice", "name": "Alice", "email": "alice@demo.test", "skills": {"billing": 3},
     "capacity": {"email": 2, "chat": 1}, "status": "online", "calendar": "office"},
    {"id": "bob", "name": "Bob", "skills": {"billing": 1}, "capacity": {"email": 1},
     "status": "online"},
]


def routing_block(on_absence: str = "requeue_all", agents=AGENTS, **policy) -> dict:
    return {"policy": {"offer_channels": [], "on_absence": on_absence, **policy},
            "calendars": {"office": {"timezone": "UTC", "hours": ALWAYS}},
            "agents": copy.deepcopy(agents),
            "sla": {"default": {"medium": {"first_response": "4h", "resolution": "3d"},
                                "urgent": {"first_response": "15m", "resolution": "4h"}}}}


def make_config(**routing):
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = routing_block(**routing)
    data["workspaces"][0]["outbound"] = {"webhook": {"url": WEBHOOK_URL}}
    return parse_config(data)


@pytest.fixture
def test_config():
    return make_config()


@pytest.fixture
def rt_client(runtime, client):
    return runtime, client
