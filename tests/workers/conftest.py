"""Fixtures of the worker tests that run RQ workers in this process."""
from __future__ import annotations

import pytest

from queues import runtime as worker_runtime
from tests.integration.harness import process_env


@pytest.fixture
def rt(runtime, tmp_path, monkeypatch):
    """The test runtime, also the one ``workers.ingest.job.ingest`` builds from the environment."""
    env = process_env(runtime, tmp_path)
    for name in ("REDIS_URL", "DATABASE_URL", "BLOB_DIR", "TICKETGATE_CONFIG"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("MESSAGE_CPU_BUDGET_S", "0.3")
    worker_runtime.runtime.cache_clear()
    yield runtime
    worker_runtime.runtime.cache_clear()
