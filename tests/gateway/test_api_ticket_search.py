"""The ticket list's ``q``: full-text search with the other filters, pages and hostile input."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from store import search_engines
from tests.gateway.apifactory import add_customer, add_message, add_ticket, get, numbers
from tests.store.search_helpers import HOSTILE, way


@pytest.fixture(params=["one batch", "batches of one", "probed", "the rest at once"])
def chunks(request, monkeypatch):
    """SQLite: the index's matches read in one batch, or in batches of one, then four rows
    (an assignee or customer filter: then a range of one of its tickets at a time), or a first
    batch of one, then the filter's tickets probed one by one or all the matches below it read
    at once. PostgreSQL: the matching tickets
    read from the GIN index by ranges of ticket ids (one range at this size), or the filtered
    tickets walked."""
    if request.param == "batches of one":
        monkeypatch.setattr(search_engines.Sqlite, "FIRST_BATCH", 1)
        monkeypatch.setattr(search_engines.Sqlite, "LARGEST_BATCH", 4)
        monkeypatch.setattr(search_engines.Sqlite, "LARGEST_SPAN", 1)
        monkeypatch.setattr(search_engines.Postgres, "way", way("walk", 0))
    if request.param in ("probed", "the rest at once"):
        monkeypatch.setattr(search_engines.Sqlite, "FIRST_BATCH", 1)
        monkeypatch.setattr(search_engines.Sqlite, "PROBE_COST",
                            0 if request.param == "probed" else 10**9)
    return request.param


def test_search_pages_round_trip(client, runtime, chunks):
    with runtime.sessions.begin() as session:
        for n in range(9):
            add_message(session, add_ticket(session), "refund please" if n % 4 else "hello")
    pages, cursor = [], None
    while True:
        url = "/api/v1/tickets?q=refund&limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = get(client, url).get_json()
        pages.append([t["number"] for t in body["tickets"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [[8, 7, 6], [4, 3, 2]]


def test_search_combines_with_every_filter(client, runtime, chunks):
    with runtime.sessions.begin() as session:
        jane = add_customer(session, "demo", "Jane", "jane@example.com")
        for status, channel, assignee, customer in (
                ("open", "email", "ann", jane.id), ("open", "chat", "bob", None),
                ("closed", "chat", "ann", jane.id), ("deleted", "email", "ann", jane.id)):
            ticket = add_ticket(session, status=status, channel=channel, assignee=assignee,
                                customer_id=customer)
            add_message(session, ticket, "printer on fire")
        add_message(session, add_ticket(session, status="open"), "nothing to see")
    search_for = "/api/v1/tickets?q=printer"
    assert numbers(get(client, search_for)) == [3, 2, 1]
    assert numbers(get(client, search_for + "&status=open")) == [2, 1]
    assert numbers(get(client, search_for + "&status=deleted")) == [4]
    assert numbers(get(client, search_for + "&channel=chat")) == [3, 2]
    assert numbers(get(client, search_for + "&assignee=ann")) == [3, 1]
    assert numbers(get(client, search_for + "&customer=jane@example.com")) == [3, 1]
    assert numbers(get(client, search_for + "&channel=chat&assignee=ann")) == [3]


def test_a_ticket_matching_across_batches_is_listed_once(client, runtime, chunks):
    """The newest match's ticket holds more matches below the first batch, and the next
    ticket of the filter is the one right under it: each listed once, neither lost."""
    with runtime.sessions.begin() as session:
        for n, assignee in enumerate(("ann", "bob", "ann", "ann", "bob")):
            ticket = add_ticket(session, status="open", assignee=assignee)
            add_message(session, ticket, "printer on fire" if n != 1 else "toner")
            if n == 3:
                add_message(session, ticket, "the printer again")
                add_message(session, ticket, "printer still on fire")
    search_for = "/api/v1/tickets?q=printer"
    assert numbers(get(client, search_for + "&assignee=ann")) == [4, 3, 1]
    assert numbers(get(client, search_for + "&assignee=ann&limit=1")) == [4]
    assert numbers(get(client, search_for + "&assignee=ann&limit=2")) == [4, 3]
    assert numbers(get(client, search_for + "&assignee=bob")) == [5]


def test_search_is_scoped_to_the_workspace(client, runtime):
    with runtime.sessions.begin() as session:
        add_message(session, add_ticket(session, slug="acme"), "secret merger plans")
        add_message(session, add_ticket(session), "ordinary question")
    assert numbers(get(client, "/api/v1/tickets?q=merger")) == []
    assert numbers(get(client, "/api/v1/tickets?q=merger", slug="acme")) == [1]


def test_hostile_search_input_is_answered_never_a_500(client, runtime):
    with runtime.sessions.begin() as session:
        add_message(session, add_ticket(session), "invoice and refund near (the) end")
    for q in HOSTILE + ["   ", "%25", "a" * 500]:
        response = get(client, f"/api/v1/tickets?q={quote(q)}")
        assert response.status_code == 200, q
        assert numbers(response) in ([], [1]), q
