"""Health, readiness and Prometheus metrics, with real Redis and databases (and dead ones)."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from queues import metrics
from queues.intake import enqueue_envelopes
from gateway.web import create_app
from tests.conftest import make_runtime

CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once
CLOSED_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/none"


@pytest.fixture
def client(sqlite_runtime):
    return create_app(sqlite_runtime).test_client()


@pytest.fixture
def redis_down_client(sqlite_url, redis_conn, tmp_path, test_config):
    return create_app(make_runtime(sqlite_url, CLOSED_REDIS, tmp_path, test_config)).test_client()


def samples(response) -> dict[tuple, float]:
    """(sample name, sorted label items) -> value of a Prometheus text response."""
    text = response.get_data(as_text=True)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_healthz_answers_200_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_needs_no_dependencies(redis_down_client):
    assert redis_down_client.get("/healthz").status_code == 200


def test_readyz_is_200_when_redis_and_store_answer(runtime):
    response = create_app(runtime).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"redis": "ok", "store": "ok"}


def test_readyz_is_503_naming_redis_when_redis_is_unreachable(redis_down_client):
    response = redis_down_client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["redis"].startswith("error") and checks["store"] == "ok"


def test_readyz_is_503_naming_the_store_when_it_is_unreachable(redis_url, redis_conn, tmp_path,
                                                               test_config):
    app = create_app(make_runtime(CLOSED_POSTGRES, redis_url, tmp_path, test_config))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["store"].startswith("error") and checks["redis"] == "ok"


def test_metrics_exposes_counters_bumped_in_redis(client, sqlite_runtime):
    metrics.incr(sqlite_runtime.redis, "received", "email", 3)
    metrics.incr(sqlite_runtime.redis, "quarantined", "chat")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    found = samples(response)
    assert found[("ticketgate_received_total", (("channel", "email"),))] == 3
    assert found[("ticketgate_quarantined_total", (("channel", "chat"),))] == 1
    assert found[("ticketgate_duplicates_total", (("channel", "form"),))] == 0
    assert found[("ticketgate_redis_up", ())] == 1


def test_metrics_exposes_latency_histogram(client, sqlite_runtime):
    metrics.record(sqlite_runtime.redis, {}, [("email", 0.2), ("email", 3.0)])
    found = samples(client.get("/metrics"))
    email = ("channel", "email")
    name = "ticketgate_processing_latency_seconds"
    assert found[(f"{name}_bucket", (email, ("le", "0.25")))] == 1
    assert found[(f"{name}_bucket", (email, ("le", "5.0")))] == 2
    assert found[(f"{name}_bucket", (email, ("le", "+Inf")))] == 2
    assert found[(f"{name}_count", (email,))] == 2
    assert found[(f"{name}_sum", (email,))] == pytest.approx(3.2)


def test_metrics_exposes_queue_depth(client, sqlite_runtime):
    enqueue_envelopes(sqlite_runtime.redis, "email", [{"channel": "email"}])
    found = samples(client.get("/metrics"))
    assert found[("ticketgate_queue_depth", (("queue", "email"),))] == 1
    assert found[("ticketgate_queue_depth", (("queue", "chat"),))] == 0
    assert found[("ticketgate_failed_jobs", (("queue", "email"),))] == 0


def test_metrics_answers_200_with_redis_up_0_when_redis_is_down(redis_down_client):
    response = redis_down_client.get("/metrics")
    assert response.status_code == 200
    found = samples(response)
    assert found[("ticketgate_redis_up", ())] == 0
    # nothing read from Redis (counters, histograms, queue depths); store-backed series remain
    assert not [n for n, _ in found if n.endswith(("_total", "_bucket")) or "queue" in n]


# --- IMAP mailboxes ---

@pytest.fixture
def imap_client(sqlite_url, redis_url, redis_conn, tmp_path):
    from config.workspaces import parse_config
    config = parse_config({"workspaces": [{"slug": "demo", "domains": ["demo.test"], "channels": {
        "mailboxes": [{"name": "support", "host": "imap.demo.test", "user": "u",
                       "password_env": "X", "folders": ["INBOX", "Sales"]}]}}]})
    rt = make_runtime(sqlite_url, redis_url, tmp_path, config)
    return rt, create_app(rt).test_client()


def test_readyz_and_metrics_show_each_mailboxs_last_fetch_and_backlog(imap_client):
    from datetime import datetime, timezone
    from store.models import ImapFolder
    rt, client = imap_client
    fetched = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    with rt.sessions.begin() as session:
        for folder, backlog in (("INBOX", 3), ("Sales", 4)):
            session.add(ImapFolder(workspace="demo", mailbox="support", folder=folder,
                                   uidvalidity=7, last_uid=10, backlog=backlog,
                                   last_fetch_at=fetched))
    [status] = client.get("/readyz").get_json()["imap"]
    assert (status["mailbox"], status["backlog"], status["stale"]) == ("support", 7, True)
    assert status["last_fetch_at"].startswith("2026-11-23T10:00:00")
    values = samples(client.get("/metrics"))
    labels = (("mailbox", "support"), ("workspace", "demo"))
    assert values[("ticketgate_imap_backlog", labels)] == 7
    assert values[("ticketgate_imap_last_fetch_timestamp_seconds", labels)] == fetched.timestamp()


def test_readyz_without_mailboxes_has_no_imap_section(client):
    assert "imap" not in client.get("/readyz").get_json()


# --- METRICS_TOKEN ---

METRICS_TOKEN = "scrape-token-0123456789"


@pytest.fixture
def guarded_client(sqlite_url, redis_url, redis_conn, tmp_path, test_config):
    from config.settings import Settings
    from queues.runtime import build_runtime
    settings = Settings(redis_url=redis_url, database_url=sqlite_url, smtp_port=0,
                        blob_dir=str(tmp_path / "blobs"), metrics_token=METRICS_TOKEN)
    return create_app(build_runtime(settings, test_config)).test_client()


@pytest.mark.parametrize("path", ["/metrics", "/readyz"])
@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong-token",
                                           f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x",
                                           f"Bearer {METRICS_TOKEN[:-1]}", "Bearer ünïcode"])
def test_metrics_token_set_refuses_requests_without_it(guarded_client, path, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = guarded_client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "demo" not in response.get_data(as_text=True)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_metrics_token_set_lets_its_bearer_scrape(guarded_client, scheme):
    headers = {"Authorization": f"{scheme} {METRICS_TOKEN}"}
    assert guarded_client.get("/readyz", headers=headers).get_json()["status"] == "ready"
    metrics_response = guarded_client.get("/metrics", headers=headers)
    assert metrics_response.status_code == 200
    assert ("ticketgate_redis_up", ()) in samples(metrics_response)


def test_healthz_stays_public_with_a_metrics_token(guarded_client):
    assert guarded_client.get("/healthz").status_code == 200


def test_without_metrics_token_metrics_and_readyz_stay_public(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_metrics_token_is_read_from_the_environment():
    from config.settings import load_settings
    assert load_settings({"METRICS_TOKEN": METRICS_TOKEN}).metrics_token == METRICS_TOKEN
    assert load_settings({}).metrics_token == ""
