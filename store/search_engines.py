"""The two full-text engines behind ``store.search``, each answering one question in SQL: the
``wanted`` newest tickets of a filtered ticket query (``ids``) that match a phrase. Both keep
one full-text entry per ticket (migration 0017), kept current by triggers: SQLite's FTS5
(``store.search_sqlite``) and PostgreSQL's ``tsvector`` with a GIN index (``store.search_pg``).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from store.search_pg import Postgres
from store.search_sqlite import Sqlite

# The objects the migrations made that the models do not describe (the engines own them).
ENGINE_TABLES = ("ticket_text", "ticket_documents")  # SQLite FTS5 (and shadows), PG side table
ENGINE_COLUMNS = (("messages", "search_vector"),)     # PostgreSQL generated column
ENGINE_INDEXES = ()


def of(session: Session):
    return Postgres if session.get_bind().dialect.name == "postgresql" else Sqlite


def not_engine_object(obj, name: str, kind: str, _reflected, _compare_to) -> bool:
    """Alembic's ``include_object``: False for the engines' own tables, column and indexes,
    which the models do not describe (schema comparisons leave them alone)."""
    if kind == "table":
        return not name.startswith(ENGINE_TABLES)
    if kind == "column":
        return (obj.table.name, name) not in ENGINE_COLUMNS
    return not (kind == "index" and name in ENGINE_INDEXES)
