"""The REST API's ticket list: workspace scope, filters, search, pagination and fields."""
from __future__ import annotations

import pytest

from tests.gateway.apifactory import add_customer, add_entry, add_message, add_ticket, get, numbers

TICKET_KEYS = {"number", "subject", "status", "priority", "channel", "customer", "message_count",
               "assignee", "skills", "tags", "language", "created_at", "updated_at", "sla",
               "routing", "merged_into", "follow_up_of", "follow_ups"}


# --- listing and filters ---

def test_list_is_newest_first_without_deleted(client, runtime):
    with runtime.sessions.begin() as session:
        for status in ("new", "deleted", "open"):
            add_ticket(session, status=status)
    response = get(client, "/api/v1/tickets")
    assert numbers(response) == [3, 1]
    assert response.get_json()["next_cursor"] is None


def test_status_filter_accepts_deleted_and_lists(client, runtime):
    with runtime.sessions.begin() as session:
        for status in ("new", "deleted", "open", "closed"):
            add_ticket(session, status=status)
    assert numbers(get(client, "/api/v1/tickets?status=deleted")) == [2]
    assert numbers(get(client, "/api/v1/tickets?status=new,closed")) == [4, 1]


def test_channel_and_assignee_filters(client, runtime):
    with runtime.sessions.begin() as session:
        add_ticket(session, channel="email", assignee="ann")
        add_ticket(session, channel="chat", assignee="bob")
        add_ticket(session, channel="chat", assignee="ann")
    assert numbers(get(client, "/api/v1/tickets?channel=chat")) == [3, 2]
    assert numbers(get(client, "/api/v1/tickets?assignee=ann")) == [3, 1]
    assert numbers(get(client, "/api/v1/tickets?channel=chat&assignee=ann")) == [3]


def test_customer_filter_by_email_or_id(client, runtime):
    with runtime.sessions.begin() as session:
        jane = add_customer(session, "demo", "Jane", "jane@example.com")
        joe = add_customer(session, "demo", "Joe", "joe@example.com")
        add_ticket(session, customer_id=jane.id)
        add_ticket(session, customer_id=joe.id)
        joe_id = joe.id
    assert numbers(get(client, "/api/v1/tickets?customer=Jane@Example.com")) == [1]
    assert numbers(get(client, f"/api/v1/tickets?customer={joe_id}")) == [2]
    assert numbers(get(client, "/api/v1/tickets?customer=nobody@example.com")) == []


def test_q_matches_subject_or_message_text_case_insensitively(client, runtime):
    with runtime.sessions.begin() as session:
        add_ticket(session, subject="Invoice missing")
        add_message(session, add_ticket(session, subject="Hello"), "Where is my INVOICE?")
        add_message(session, add_ticket(session, subject="Other"), "nothing here")
    assert numbers(get(client, "/api/v1/tickets?q=invoice")) == [2, 1]


def test_q_wildcards_are_literal(client, runtime):
    with runtime.sessions.begin() as session:
        add_ticket(session, subject="100% refund")
        add_ticket(session, subject="1000 refunds")
    assert numbers(get(client, "/api/v1/tickets?q=100%25")) == [1]
    assert numbers(get(client, "/api/v1/tickets?q=_")) == []


def test_pagination_round_trip(client, runtime):
    with runtime.sessions.begin() as session:
        for _ in range(7):
            add_ticket(session)
    pages, cursor = [], None
    while True:
        url = "/api/v1/tickets?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = get(client, url).get_json()
        pages.append([t["number"] for t in body["tickets"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]


def test_page_size_equal_to_remaining_rows_has_no_next_cursor(client, runtime):
    with runtime.sessions.begin() as session:
        for _ in range(3):
            add_ticket(session)
    assert get(client, "/api/v1/tickets?limit=3").get_json()["next_cursor"] is None


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"), ("limit=-1", "limit"),
    ("limit=" + "9" * 5000, "limit"), ("cursor=not-a-cursor", "cursor"), ("cursor=%FF", "cursor"),
    ("status=bogus", "status"), ("channel=fax", "channel"),
    ("customer=" + "9" * 30, "customer"), ("q=a%00b", "q"), ("q=" + "x" * 501, "q"),
])
def test_invalid_list_parameter_is_400_naming_it(client, query, field):
    response = get(client, f"/api/v1/tickets?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameters"
    assert list(error["fields"]) == [field]


def test_quarantine_cursor_is_refused_by_ticket_list(client, runtime):
    with runtime.sessions.begin() as session:
        for _ in range(2):
            add_entry(session)
    cursor = get(client, "/api/v1/quarantine?limit=1").get_json()["next_cursor"]
    assert get(client, f"/api/v1/tickets?cursor={cursor}").status_code == 400


def test_list_has_ticket_fields_with_customer(client, runtime):
    with runtime.sessions.begin() as session:
        jane = add_customer(session, "demo", "Jane", "jane@example.com")
        add_ticket(session, customer_id=jane.id, tags=["vip"], skills={"billing": 2})
    ticket = get(client, "/api/v1/tickets").get_json()["tickets"][0]
    assert set(ticket) == TICKET_KEYS
    assert ticket["customer"]["name"] == "Jane"
    assert ticket["customer"]["email"] == "jane@example.com"
    assert ticket["customer"]["identities"][0]["value"] == "jane@example.com"
    assert (ticket["tags"], ticket["skills"]) == (["vip"], {"billing": 2})
    assert ticket["created_at"] == "2024-05-01T09:01:00Z"


def test_list_does_not_query_per_ticket(client, runtime):
    """Customers, identities and follow-ups are loaded in bulk: the query count does not grow
    (workspace, tickets, customers, identities, follow-ups)."""
    from sqlalchemy import event
    engine = runtime.sessions.kw["bind"]
    with runtime.sessions.begin() as session:
        for i in range(5):
            customer = add_customer(session, "demo", f"C{i}", f"c{i}@example.com")
            add_ticket(session, customer_id=customer.id)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert len(get(client, "/api/v1/tickets").get_json()["tickets"]) == 5
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 5
