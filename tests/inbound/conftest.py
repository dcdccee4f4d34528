"""The inbound-parse tests: workspace demo has all three providers, acme has none."""
from __future__ import annotations

import copy

import pytest
from rq import Queue

from config.workspaces import parse_config
from gateway.web import create_app
from tests.conftest import TEST_CONFIG
from tests.inbound.fixtures import mailgun, postmark, sendgrid
from workers.ingest.job import ingest_with

INBOUND = {"mailgun": {"signing_key_env": "TG_TEST_MAILGUN_KEY", "max_age_s": 3600},
           "sendgrid": {"user_env": "TG_TEST_SENDGRID_USER",
                        "password_env": "TG_TEST_SENDGRID_PASSWORD"},
           "postmark": {"user_env": "TG_TEST_POSTMARK_USER",
                        "password_env": "TG_TEST_POSTMARK_PASSWORD"}}


def inbound_config():
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["channels"] = {"inbound": INBOUND}
    return parse_config(data)


@pytest.fixture
def test_config():
    return inbound_config()


@pytest.fixture(autouse=True)
def provider_secrets(monkeypatch):
    monkeypatch.setenv("TG_TEST_MAILGUN_KEY", mailgun.SIGNING_KEY)
    monkeypatch.setenv("TG_TEST_SENDGRID_USER", sendgrid.USER)
    monkeypatch.setenv("TG_TEST_SENDGRID_PASSWORD", sendgrid.PASSWORD)
    monkeypatch.setenv("TG_TEST_POSTMARK_USER", postmark.USER)
    monkeypatch.setenv("TG_TEST_POSTMARK_PASSWORD", postmark.PASSWORD)


@pytest.fixture
def client(sqlite_runtime):
    return create_app(sqlite_runtime).test_client()


def queued(runtime) -> list[dict]:
    """The envelopes waiting on the email queue."""
    return [e for job in Queue("email", connection=runtime.redis).get_jobs() for e in job.args[0]]


def drain(runtime) -> list[str]:
    """Run every queued email job through the real ingest pipeline (no worker process)."""
    queue = Queue("email", connection=runtime.redis)
    outcomes = []
    for job in queue.get_jobs():
        outcomes += ingest_with(runtime, job.args[0])
        queue.remove(job)
    return outcomes
