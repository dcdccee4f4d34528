"""Fixtures and helpers of the contact form edge tests (imported by tests/gateway/test_form*.py).

A workspace file with forms of every kind: ``demo`` (small attachment limits, one allowed
origin, generous rate limits), ``limited`` (tight rate limits), ``closed`` (form disabled).
Real Redis and SQLite; nothing is mocked.
"""
from __future__ import annotations

import json

import pytest
from rq import Queue

from config.workspaces import parse_config
from queues.intake import RAW_KEY
from gateway.web import create_app
from tests.conftest import make_runtime
from tests.integration.harness import free_port

SHOP = "https://shop.demo.test"
MAX_BYTES = 2048
FORM_CONFIG = {"workspaces": [
    {"slug": "demo", "name": "Demo Inc.", "domains": ["demo.test"],
     "api_keys": [{"env": "TG_TEST_KEY_DEMO"}],
     "channels": {"form": {"allowed_origins": [SHOP], "per_ip_per_hour": 100_000,
                           "per_email_per_hour": 100_000, "max_attachments": 2,
                           "max_attachment_bytes": MAX_BYTES,
                           "allowed_types": ["image/*", "application/pdf", "text/plain"]}}},
    {"slug": "limited", "name": "Limited",
     "channels": {"form": {"per_ip_per_hour": 3, "per_email_per_hour": 2}}},
    {"slug": "closed", "name": "Closed", "channels": {"form": {"enabled": False}}},
]}
VALID = {"name": "Alice", "email": "alice@customer.test", "subject": "Printer",
         "message": "It is on fire."}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56


@pytest.fixture
def form_runtime(sqlite_url, redis_url, redis_conn, tmp_path):
    return make_runtime(sqlite_url, redis_url, tmp_path, parse_config(FORM_CONFIG))


@pytest.fixture
def client(form_runtime):
    return create_app(form_runtime).test_client()


@pytest.fixture
def down_client(sqlite_url, tmp_path):
    """A web app whose Redis is a closed port."""
    runtime = make_runtime(sqlite_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path,
                           parse_config(FORM_CONFIG))
    return create_app(runtime).test_client()


def queued_payloads(runtime) -> list[dict]:
    """The raw payloads waiting on the ``form`` queue, decoded."""
    envelopes = [envelope for job in Queue("form", connection=runtime.redis).jobs
                 for envelope in job.args[0]]
    return [json.loads(runtime.redis.get(RAW_KEY + e["raw_ref"])) for e in envelopes]


def queued_envelopes(runtime) -> list[dict]:
    return [envelope for job in Queue("form", connection=runtime.redis).jobs
            for envelope in job.args[0]]


def rejected_count(runtime) -> int:
    return int(runtime.redis.hget("ticketgate:metrics", "rejected|form") or 0)
