"""What a worker process needs, built once per process from the settings.

Jobs are plain functions taking plain data; they reach their database, blob store and Redis
through ``runtime()``, which tests replace by passing their own ``Runtime`` to ``*_with``
functions.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, load_settings
from config.workspaces import Config, load_config
from queues import metrics
from store.blobs import BlobStore
from store.db import make_engine, read_session_factory, session_factory


@dataclass
class Runtime:
    settings: Settings
    config: Config
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    blobs: BlobStore
    redis: Redis
    workspaces_stored: set[str] = field(default_factory=set)  # slugs known to have a row


def build_runtime(settings: Settings, config: Config | None = None) -> Runtime:
    engine = make_engine(settings.database_url)
    sessions, redis = session_factory(engine), Redis.from_url(settings.redis_url)
    metrics.count_on_commit(sessions, redis)  # metrics of a transaction follow its commit
    return Runtime(settings=settings, config=config or load_config(settings.config_path),
                   sessions=sessions, read_sessions=read_session_factory(engine),
                   blobs=BlobStore(settings.blob_dir), redis=redis)


@functools.cache
def runtime() -> Runtime:
    return build_runtime(load_settings())
