"""The summary report over tickets made by the ingest pipeline (SQLite and PostgreSQL): a
customer's answer reopens a resolved ticket (one reopen, the last resolution counts), an
auto-reply changes nothing, a message to a closed ticket under the ``follow_up`` policy opens
a follow-up measured from its own creation. Creation times are set through the store; the
agents' actions and the pipeline's steps run at the times the test's clock gives."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from store.models import Ticket
from tests.gateway.apifactory import get
from tests.gateway.test_api_reports import (DAY, HOUR, MONDAY, REPORT, Clock, office_config,
                                            reply, set_status)
from tests.workers.events import mail_event
from workers.ingest.job import store_event


@pytest.fixture
def test_config():
    return office_config(reopen={"policy": "follow_up"})


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, ("workers.ingest.rules_step", "workers.ingest.lifecycle"))


def inbound(runtime, message_id: str, **values) -> None:
    store_event(runtime, runtime.config.workspace("demo"), mail_event(message_id, **values))


def created_at(runtime, number: int, offset: timedelta) -> None:
    with runtime.sessions.begin() as session:
        session.scalar(select(Ticket).where(Ticket.number == number)).created_at = (
            MONDAY + offset)


def ticket(runtime, number: int) -> Ticket:
    with runtime.sessions() as session:
        return session.scalar(select(Ticket).where(Ticket.number == number))


def report(client) -> dict:
    [row] = get(client, REPORT + "&group_by=channel").get_json()["rows"]
    return row


def test_a_customer_reopening_counts_one_reopen_and_the_last_resolution(runtime, client, clock):
    inbound(runtime, "a@x", subject="Help")
    created_at(runtime, 1, timedelta())
    inbound(runtime, "ooo@x", in_reply_to=["a@x"], kind="auto_reply")
    clock.at(timedelta(hours=1))
    reply(client, 1)
    clock.at(timedelta(hours=2))
    set_status(client, 1, "resolved")
    inbound(runtime, "b@x", in_reply_to=["a@x"], text="Still broken")
    assert (ticket(runtime, 1).status, ticket(runtime, 1).reopen_count) == ("open", 1)
    clock.at(timedelta(days=1))
    set_status(client, 1, "resolved")

    row = report(client)
    assert (row["created"], row["resolved"], row["reopened"], row["backlog"]) == (1, 1, 1, 0)
    assert row["first_response"]["p50_s"] == HOUR
    assert row["resolution"]["p50_s"] == DAY
    assert row["sla"] == {"met": 1, "breached": 0}


def test_an_auto_reply_is_no_first_response_and_reopens_nothing(runtime, client, clock):
    inbound(runtime, "a@x", subject="Help")
    created_at(runtime, 1, timedelta())
    clock.at(timedelta(hours=1))
    set_status(client, 1, "resolved")
    inbound(runtime, "ooo@x", in_reply_to=["a@x"], kind="auto_reply")
    row = report(client)
    assert (row["resolved"], row["reopened"]) == (1, 0)
    assert row["first_response"]["count"] == 0
    assert row["resolution"]["p50_s"] == HOUR


def test_a_message_to_a_closed_ticket_opens_a_follow_up(runtime, client, clock):
    inbound(runtime, "a@x", subject="Help")
    created_at(runtime, 1, timedelta())
    clock.at(timedelta(hours=3))
    reply(client, 1)
    set_status(client, 1, "closed")
    inbound(runtime, "b@x", in_reply_to=["a@x"], text="One more question")
    follow_up = ticket(runtime, 2)
    assert follow_up.follow_up_of_id == ticket(runtime, 1).id
    created_at(runtime, 2, timedelta(days=1))
    clock.at(timedelta(days=1, minutes=30))
    reply(client, 2)

    row = report(client)
    assert (row["created"], row["resolved"], row["reopened"], row["backlog"]) == (2, 1, 0, 1)
    assert row["first_response"]["count"] == 2
    assert row["first_response"]["mean_s"] == (3 * HOUR + 1800) / 2
    assert row["resolution"] == {"count": 1, "p50_s": 3 * HOUR, "p90_s": 3 * HOUR,
                                 "mean_s": 3 * HOUR}
