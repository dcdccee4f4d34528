"""The REST API app and its test client on a full runtime; a test module may define its own."""
from __future__ import annotations

import pytest

from gateway.web import create_app


@pytest.fixture
def app(runtime, api_keys):
    return create_app(runtime)


@pytest.fixture
def client(app):
    return app.test_client()
