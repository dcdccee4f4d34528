"""A Telegram ticket made by the real pipeline is found by the channel it reports: the REST API's
``?channel=telegram`` (and ``messenger``, the Telegram queue's former name) lists it, on SQLite
and PostgreSQL, and the other channels do not."""
from __future__ import annotations

from tests.gateway.apifactory import auth
from tests.telegram import updates as tg
from tests.telegram.test_worker import deliver
from tests.workers.events import mail_event
from workers.ingest.job import store_event


def listed(client, channel: str) -> list[tuple[int, str]]:
    response = client.get(f"/api/v1/tickets?channel={channel}", headers=auth())
    assert response.status_code == 200, response.get_json()
    return [(t["number"], t["channel"]) for t in response.get_json()["tickets"]]


def test_a_telegram_ticket_is_listed_by_the_channel_it_reports(runtime, app):
    assert deliver(runtime, tg.message(1, 11, "Where is my parcel?")) == "created"
    store_event(runtime, runtime.config.workspace("demo"), mail_event("m-1@x", subject="Mail"))
    client = app.test_client()
    [(number, reported)] = listed(client, "telegram")
    assert reported == "telegram"
    body = client.get(f"/api/v1/tickets/{number}", headers=auth()).get_json()
    assert body["channel"] == "telegram"
    assert listed(client, "messenger") == [(number, "telegram")]
    assert [channel for _, channel in listed(client, "email")] == ["email"]
    assert listed(client, "chat") == []
