"""The ticket list's query plans on SQLite, with the statistics the migrations write (the shape
of a million-ticket store): no filter makes the database read and sort every ticket of the
workspace. SQLite plans from those statistics alone, so a small test database is planned as a
big one would be; an index added without its statistics row can take over the list (0014)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from gateway.api.params import TicketList
from gateway.api.tickets import ticket_query
from store.models import Ticket
from store.search_sqlite import batch_statement, filter_index_query, range_statement

NEWEST_FIRST = "ix_tickets_ws_id"
BY_ID = "INTEGER PRIMARY KEY"  # the table itself, newest first
FILTERS = {  # name -> (filters, the index the list must walk)
    "newest": ({}, NEWEST_FIRST),
    "deep page": ({"after": 500_000}, BY_ID),
    "channel": ({"channel": "telegram"}, NEWEST_FIRST),
    "status": ({"statuses": ("open",)}, "ix_tickets_ws_status"),
    "assignee": ({"assignee": "ann"}, "ix_tickets_ws_assignee"),
    "assignee + statuses": ({"assignee": "ann", "statuses": ("open", "postponed")},
                            "ix_tickets_ws_assignee"),
    "channel + status": ({"channel": "chat", "statuses": ("open",)}, "ix_tickets_ws_status"),
}


def plan(rt, narrow=None, **filters) -> str:
    """The plan of the list with ``filters``; with ``narrow``, of ``narrow`` applied to the
    list's ticket ids (a search batch's check)."""
    wanted = dict(limit=50, after=None, statuses=(), channel="", assignee="", customer="", q="")
    wanted.update(filters)
    with rt.read_sessions() as session:
        query = ticket_query(session, 1, TicketList(**wanted))
        if narrow is not None:
            query = narrow(query.with_only_columns(Ticket.id).order_by(None).limit(None))
        sql = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
    return "\n".join(row[-1] for row in rows)


@pytest.mark.parametrize("name", FILTERS)
def test_list_walks_an_index_newest_first_without_sorting(sqlite_runtime, name):
    filters, index = FILTERS[name]
    found = plan(sqlite_runtime, **filters)
    assert f" {index} " in found, found
    assert "TEMP B-TREE" not in found, found


@pytest.mark.parametrize("customer", ["jane@example.com", 7, "telegram:42"])
def test_a_customers_tickets_are_found_through_the_customer(sqlite_runtime, customer):
    found = plan(sqlite_runtime, customer=customer)
    assert "INDEX ix_tickets_customer_id " in found, found


def batch(ids):
    """A search batch (store.search_sqlite.Sqlite): its matches and the tickets of the list's
    ids among them, in one statement."""
    return batch_statement(ids, count_tickets=True).params(phrase='"refund"', below=2**40,
                                                           batch=256)


def tickets_read(found: str) -> list[str]:
    """The lines of a plan that read the tickets table."""
    return [line.strip() for line in found.splitlines() if " tickets " in line + " "]


@pytest.mark.parametrize("name", FILTERS)
def test_search_checks_its_matches_by_primary_key(sqlite_runtime, name):
    """A search reads the full-text index newest first and checks each batch's tickets
    against the filters (store.search_sqlite.Sqlite): one lookup of each ticket by its id,
    never a walk of the filtered tickets; the index is read once, into the batch."""
    filters, _index = FILTERS[name]
    found = plan(sqlite_runtime, batch, **filters)
    assert found.count("MATERIALIZE batch") == 1, found
    assert found.count("ticket_text VIRTUAL TABLE") == 1, found
    [lookup] = tickets_read(found)  # one search per listed id, by primary key or a covering index
    assert lookup.startswith("SEARCH tickets USING"), found
    assert lookup.endswith(("(rowid=?)", "id=?)")), found


@pytest.mark.parametrize("name", ["assignee", "assignee + statuses"])
def test_search_intersects_a_range_of_an_assignees_tickets(sqlite_runtime, name):
    """After a first batch came up short, an assignee's tickets are read a range at a time from
    the assignee index alone, intersected with the matches in their range of ids, and only the
    tickets in both are looked up."""
    filters, index = FILTERS[name]

    def ranged(ids):
        own = filter_index_query(ids)
        return range_statement(ids, own, '"refund"', 100, 200)
    found = plan(sqlite_runtime, ranged, **filters)
    outer, inner = tickets_read(found)
    assert outer.endswith(("(rowid=?)", "id=?)", "rowid>? AND rowid<?)")), found
    assert inner.startswith(f"SEARCH tickets USING COVERING INDEX {index} "), found
    assert "id>? AND id<?" in inner, found
    assert found.count("ticket_text VIRTUAL TABLE") == 1, found


def test_search_counts_an_assignees_tickets_from_its_index(sqlite_runtime):
    """Where a range of an assignee's tickets starts: from the assignee index alone, even when
    the list also filters by status (not in that index)."""
    filters, index = FILTERS["assignee + statuses"]

    def nth(ids):
        own = filter_index_query(ids)
        return own.where(Ticket.id < 500).order_by(Ticket.id.desc()).offset(99).limit(1)
    [line] = tickets_read(plan(sqlite_runtime, nth, **filters))
    assert line.startswith(f"SEARCH tickets USING COVERING INDEX {index} "), line
