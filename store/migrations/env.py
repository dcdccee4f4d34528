"""Alembic environment: migrates the database named by DATABASE_URL (or the caller's URL)."""
from alembic import context

from config.settings import load_settings
from store import search_engines
from store.db import make_engine
from store.models import Base

url = context.config.attributes.get("url") or load_settings().database_url
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=url.startswith("sqlite"),
                      include_object=search_engines.not_engine_object)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
engine.dispose()
