"""Helpers shared by the REST API tests: authorized requests, rows added straight to the store."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from store import repo
from store.models import Customer, Message, QuarantineEntry, Ticket

BASE_TIME = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)


def auth(slug: str = "demo") -> dict:
    return {"Authorization": f"Bearer {slug}-test-key"}


def get(client, url: str, slug: str = "demo"):
    return client.get(url, headers=auth(slug))


def add_customer(session, slug: str, name: str, email: str) -> Customer:
    ws = repo.workspace_row(session, slug)
    customer, _identity = repo.create_customer(session, ws.id, name, "email", email)
    return customer


def add_ticket(session, slug: str = "demo", **values) -> Ticket:
    ws = repo.workspace_row(session, slug)
    number = repo.next_ticket_number(session, ws.id)
    values.setdefault("created_at", BASE_TIME + timedelta(minutes=number))
    ticket = Ticket(workspace_id=ws.id, number=number, **{"subject": f"Ticket {number}",
                                                          "channel": "email", **values})
    session.add(ticket)
    session.flush()
    return ticket


def add_message(session, ticket: Ticket, text: str, **values) -> Message:
    if "created_at" in values:  # an edge stamps received_at; messages are listed by it
        values.setdefault("received_at", values["created_at"].isoformat())
    message = Message(workspace_id=ticket.workspace_id, ticket_id=ticket.id, direction="in",
                      channel=ticket.channel, dedupe_key=f"{ticket.id}-{text}", text=text,
                      **values)
    session.add(message)
    ticket.message_count += 1
    session.flush()
    return message


def add_entry(session, slug: str = "demo", channel: str = "email") -> QuarantineEntry:
    envelope = {"v": 1, "channel": channel, "workspace": slug, "account": "support@demo.test",
                "raw_ref": "ab" * 32, "size": 10, "received_at": BASE_TIME.isoformat(),
                "meta": {}}
    entry = QuarantineEntry(workspace=slug, channel=channel, native_id="<x@demo.test>",
                            reason="unparseable", detail="bad MIME", envelope=envelope,
                            size=10, received_at=BASE_TIME.isoformat())
    session.add(entry)
    session.flush()
    return entry


def numbers(response) -> list[int]:
    return [t["number"] for t in response.get_json()["tickets"]]
