"""Shared fixtures: real Redis (the local server, else the embedded one), real databases.

Integration tests run on SQLite and on PostgreSQL (skipped when no PostgreSQL answers at
TEST_POSTGRES_URL). Nothing here is a mock.
"""
from __future__ import annotations

import os

import pytest
import redis
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from config.settings import Settings
from config.workspaces import parse_config
from gateway.ops import embedded_redis
from gateway.web import create_app
from store.db import make_engine
from store.migrate import upgrade
from queues.runtime import build_runtime

# Property tests draw the same examples on every run (``make fuzz`` explores with fresh seeds):
# a failure in CI is then a failure on every machine, never a roll of the dice.
hypothesis_settings.register_profile("deterministic", derandomize=True, database=None)
hypothesis_settings.load_profile("deterministic")

LOCAL_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_CONFIG = {"workspaces": [
    {"slug": "demo", "name": "Demo Inc.", "domains": ["demo.test"], "sender": "support@demo.test",
     "api_keys": [{"env": "TG_TEST_KEY_DEMO"}]},
    {"slug": "acme", "name": "Acme", "addresses": ["help@acme.test"],
     "api_keys": [{"env": "TG_TEST_KEY_ACME"}]},
]}
DEMO_KEY, ACME_KEY = "demo-test-key", "acme-test-key"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    try:
        redis.Redis.from_url(LOCAL_REDIS_URL).ping()
        yield LOCAL_REDIS_URL
        return
    except redis.ConnectionError:
        pass
    process, url = embedded_redis.start(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait()


@pytest.fixture
def redis_conn(redis_url):
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


def _postgres_available() -> bool:
    try:
        make_engine(POSTGRES_URL).connect().close()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def migrated_postgres():
    if not _postgres_available():
        pytest.skip("PostgreSQL is not reachable at TEST_POSTGRES_URL")
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(POSTGRES_URL)
    return engine


def _truncate_postgres(engine) -> None:
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version'")).scalars().all()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        for sequence in conn.execute(text(  # ticket number sequences made per workspace
                "SELECT sequencename FROM pg_sequences WHERE sequencename LIKE 'ticket_numbers_%'"
        )).scalars():
            conn.execute(text(f"DROP SEQUENCE {sequence}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated, empty database: SQLite in a temp dir, or the local PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        upgrade(url)
        return url
    _truncate_postgres(request.getfixturevalue("migrated_postgres"))
    return POSTGRES_URL


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    return url


@pytest.fixture
def test_config():
    return parse_config(TEST_CONFIG)


@pytest.fixture
def api_keys(monkeypatch):
    monkeypatch.setenv("TG_TEST_KEY_DEMO", DEMO_KEY)
    monkeypatch.setenv("TG_TEST_KEY_ACME", ACME_KEY)
    return {"demo": DEMO_KEY, "acme": ACME_KEY}


def make_runtime(database_url, redis_url, tmp_path, config):
    settings = Settings(redis_url=redis_url, database_url=database_url,
                        blob_dir=str(tmp_path / "blobs"), smtp_port=0)
    return build_runtime(settings, config)


@pytest.fixture
def runtime(database_url, redis_url, redis_conn, tmp_path, test_config):
    """A full runtime on a fresh database (SQLite and PostgreSQL) and an empty Redis db."""
    yield from closed_after(make_runtime(database_url, redis_url, tmp_path, test_config))


@pytest.fixture
def sqlite_runtime(sqlite_url, redis_url, redis_conn, tmp_path, test_config):
    """The same on SQLite only, for tests that do not need both databases."""
    yield from closed_after(make_runtime(sqlite_url, redis_url, tmp_path, test_config))


def closed_after(rt):
    """Yield ``rt``, then close its pooled database connections: a test's idle connections
    would otherwise stay open until the garbage collector finds the engine, and suites that
    run side by side exhaust PostgreSQL's max_connections ("too many clients")."""
    yield rt
    rt.sessions.kw["bind"].dispose()
    rt.redis.close()


@pytest.fixture
def app(runtime, api_keys):
    """The REST API app on a full runtime; a test module may define its own."""
    return create_app(runtime)


@pytest.fixture
def client(app):
    return app.test_client()
