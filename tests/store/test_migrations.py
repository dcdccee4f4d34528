"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from store import search_engines
from store.db import make_engine, session_factory
from store.migrate import ALEMBIC_INI
from store.models import Base
from tests.conftest import make_runtime
from tests.gateway.apifactory import add_message, add_ticket
from tests.store.test_search import found


def test_migrated_schema_matches_models(database_url):
    """Everything but the search engine's own objects (FTS5 tables, the tsvector column and
    its indexes), which the models do not describe."""
    with make_engine(database_url).connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": search_engines.not_engine_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_creates_every_table_on_empty_database(database_url):
    tables = set(inspect(make_engine(database_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_search_migration_backfills_stored_messages(database_url, redis_url, tmp_path,
                                                    test_config):
    """Messages stored before 0012 are found after it; its downgrade leaves a working 0011."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url
    command.downgrade(config, "0011")
    try:
        engine = make_engine(database_url)
        with session_factory(engine).begin() as session:
            add_message(session, add_ticket(session, subject="Lost parcel"), "It never came")
        engine.dispose()
    finally:
        command.upgrade(config, "head")
    rt = make_runtime(database_url, redis_url, tmp_path, test_config)
    try:
        assert found(rt, "never came") == found(rt, "lost parcel") == [1]
    finally:
        rt.sessions.kw["bind"].dispose()
