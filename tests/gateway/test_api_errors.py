"""The REST API's JSON errors: 404, 405, 413, 500, and 503 when Redis or the store is down."""
from __future__ import annotations

from gateway.web import create_app
from store.models import QuarantineEntry
from tests.conftest import make_runtime
from tests.gateway.apifactory import add_entry, auth


# --- errors ---

def test_unknown_route_is_json_404(client):
    response = client.get("/api/v1/nothing-here", headers=auth())
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    response = client.delete("/api/v1/tickets", headers=auth())
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_unexpected_error_is_json_500_without_traceback(app):
    def boom():
        raise RuntimeError("secret internals")
    app.add_url_rule("/boom", view_func=boom)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "internal_error"


def test_oversized_body_is_json_413(app):
    from flask import request
    app.add_url_rule("/upload", view_func=lambda: request.get_data(), methods=["POST"])
    app.config["MAX_CONTENT_LENGTH"] = 10
    response = app.test_client().post("/upload", data=b"x" * 100)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_redis_down_during_replay_is_503_with_retry_after(sqlite_url, redis_conn, tmp_path,
                                                          test_config, api_keys):
    down = make_runtime(sqlite_url, "redis://127.0.0.1:1/0", tmp_path, test_config)
    with down.sessions.begin() as session:
        entry_id = add_entry(session).id
    response = create_app(down).test_client().post(f"/api/v1/quarantine/{entry_id}/replay",
                                                   headers=auth())
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    with down.sessions() as session:
        assert session.get(QuarantineEntry, entry_id).replayed_at is None


def test_store_down_is_503(redis_url, redis_conn, tmp_path, test_config, api_keys):
    down = make_runtime("postgresql+psycopg://postgres@127.0.0.1:1/none", redis_url, tmp_path,
                        test_config)
    response = create_app(down).test_client().get("/api/v1/tickets", headers=auth())
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
