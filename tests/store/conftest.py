"""Fixtures of the store's tests: ``strategy`` runs a search test each way a page is found."""
from __future__ import annotations

import pytest

from store import search_engines
from tests.store.search_helpers import way


@pytest.fixture(params=["one batch", "batches", "ranges of one"])
def strategy(request, monkeypatch):
    """Run a test each way a page is found. SQLite: the matches read in one batch, or in
    batches of one, then four rows (a filter with an index of its own then goes by its own
    tickets, range by range). PostgreSQL: every ticket holding the words read from the GIN
    index at once and looked up one at a time, or the filtered tickets walked newest first,
    each one's document checked, or the tickets holding the words read a range of one ticket
    id at a time."""
    if request.param == "one batch":
        monkeypatch.setattr(search_engines.Postgres, "SLICE", 1)
        monkeypatch.setattr(search_engines.Postgres, "way", way("ranges", "all"))
    if request.param == "batches":
        monkeypatch.setattr(search_engines.Sqlite, "FIRST_BATCH", 1)
        monkeypatch.setattr(search_engines.Sqlite, "LARGEST_BATCH", 4)
        monkeypatch.setattr(search_engines.Postgres, "way", way("walk", 0))
    if request.param == "ranges of one":
        monkeypatch.setattr(search_engines.Sqlite, "FIRST_BATCH", 2)
        monkeypatch.setattr(search_engines.Sqlite, "LARGEST_BATCH", 2)
        for name, value in (("FIRST_RANGE", 1), ("RANGE_SLACK", 1e-9), ("RANGE_GROWTH", 1)):
            monkeypatch.setattr(search_engines.Postgres, name, value)
        monkeypatch.setattr(search_engines.Postgres, "way", way("ranges", 1))
    return request.param
