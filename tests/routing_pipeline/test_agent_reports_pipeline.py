"""The agents report over tickets made by the ingest pipeline (SQLite and PostgreSQL): a
customer's answer reopens a ticket alice resolved; bob, who takes it over, resolves it again
and is credited with it; an auto-reply is nobody's reply."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.gateway.apifactory import get
from tests.gateway.test_api_agent_reports import REPORT, agent_reply, assign, put_agent
from tests.gateway.test_api_reports import DAY, HOUR, Clock, set_status
from tests.routing_pipeline import test_reports_pipeline as summary_pipeline
from tests.routing_pipeline.test_reports_pipeline import created_at, inbound, ticket

test_config = summary_pipeline.test_config  # the same workspace: an SLA on office hours


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, ("workers.ingest.rules_step", "workers.ingest.lifecycle",
                               "tickets.agents"))


def test_a_ticket_reopened_by_the_customer_is_credited_to_its_last_resolver(runtime, client,
                                                                             clock):
    put_agent(client, "alice", "online", 2)
    put_agent(client, "bob", "online", 2)
    inbound(runtime, "a@x", subject="Help")
    created_at(runtime, 1, timedelta())
    assign(client, 1, "alice")
    clock.at(timedelta(hours=1))
    agent_reply(client, 1, "alice")
    inbound(runtime, "ooo@x", in_reply_to=["a@x"], kind="auto_reply")
    clock.at(timedelta(hours=2))
    set_status(client, 1, "resolved")
    clock.at(timedelta(hours=3))
    inbound(runtime, "b@x", in_reply_to=["a@x"], text="Still broken")
    assert (ticket(runtime, 1).status, ticket(runtime, 1).resolved_by) == ("open", None)
    clock.at(timedelta(hours=4))
    assign(client, 1, "bob")
    clock.at(timedelta(days=1))
    set_status(client, 1, "resolved")

    rows = {row["agent"]: row for row in get(client, REPORT).get_json()["rows"]}
    alice, bob = rows["alice"], rows["bob"]
    assert (alice["assigned"], alice["resolved"], alice["handled"], alice["replies"]) == (
        1, 0, 1, 1)
    assert alice["first_response"]["p50_s"] == HOUR
    assert (bob["assigned"], bob["resolved"], bob["handled"], bob["replies"]) == (1, 1, 1, 0)
    assert bob["resolution"]["p50_s"] == DAY and bob["sla"] == {"met": 1, "breached": 0}
    assert bob["first_response"]["count"] == 0
