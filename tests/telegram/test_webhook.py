"""The webhook edge POST /hooks/telegram/<workspace>/<bot> on a real Redis."""
from __future__ import annotations

import json

from rq import Queue

from queues.intake import RAW_KEY
from gateway.edges.telegram import updates
from gateway.web import create_app
from tests.conftest import make_runtime
from tests.integration.harness import free_port
from tests.telegram import updates as tg
from tests.telegram.conftest import ACME_SECRET, SECRET

URL = "/hooks/telegram/demo/support"


def post(client, body, secret: str | None = SECRET, url: str = URL):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    data = body if isinstance(body, bytes) else tg.raw(body)
    return client.post(url, data=data, headers=headers)


def queued(redis_conn) -> list[dict]:
    return [e for job in Queue("telegram", connection=redis_conn).get_jobs()
            for e in job.args[0]]


def test_update_is_enqueued_raw_with_the_bot_as_account(client, redis_conn):
    update = tg.message(50001, 11)
    response = post(client, update)
    assert response.status_code == 200
    assert response.get_json()["status"] == "accepted"
    [envelope] = queued(redis_conn)
    assert envelope["channel"] == "telegram" and envelope["workspace"] == "demo"
    assert envelope["account"] == "support"
    assert envelope["meta"] == {"bot": "support", "update_id": 50001}
    assert json.loads(redis_conn.get(RAW_KEY + envelope["raw_ref"])) == update


def test_wrong_or_missing_secret_is_401_and_nothing_is_queued(client, redis_conn):
    for secret in ("wrong", "", None, ACME_SECRET, SECRET + "x"):
        response = post(client, tg.message(50002, 12), secret=secret)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert queued(redis_conn) == []


def test_each_workspace_checks_its_own_secret(client, redis_conn):
    assert post(client, tg.message(1, 1), ACME_SECRET, "/hooks/telegram/acme/support"
                ).status_code == 200
    assert post(client, tg.message(2, 1), SECRET, "/hooks/telegram/acme/support"
                ).status_code == 401


def test_unknown_workspace_or_bot_is_404(client, redis_conn):
    assert post(client, tg.message(1, 1), url="/hooks/telegram/nope/support").status_code == 404
    response = post(client, tg.message(1, 1), url="/hooks/telegram/demo/nobot")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_polling_bot_without_secret_refuses_webhook_calls(client, redis_conn):
    assert post(client, tg.message(1, 1), secret="", url="/hooks/telegram/demo/poller"
                ).status_code == 401


def test_invalid_json_is_400(client, redis_conn):
    response = post(client, b'{"update_id": 1,')
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"
    assert post(client, b"[1]").status_code == 400
    assert queued(redis_conn) == []


def test_json_that_is_not_an_update_is_400(client, redis_conn):
    for body in ({"message": {"text": "hi"}}, {"update_id": "1"}, {"update_id": 1.5},
                 {"update_id": True}):
        response = post(client, body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "not_an_update"
    assert queued(redis_conn) == []


def test_double_delivery_of_one_update_is_enqueued_once(client, redis_conn):
    update = tg.message(50003, 13)
    assert post(client, update).get_json()["status"] == "accepted"
    second = post(client, update)
    assert second.status_code == 200 and second.get_json()["status"] == "duplicate"
    assert len(queued(redis_conn)) == 1
    assert post(client, tg.message(50004, 14)).get_json()["status"] == "accepted"
    assert len(queued(redis_conn)) == 2


def test_webhook_and_poller_share_the_update_guard(client, redis_conn):
    """The webhook remembers an update in its enqueue transaction; the poller reads and writes
    the same keys, so an update seen by one is a duplicate for the other."""
    assert post(client, tg.message(77, 11)).get_json()["status"] == "accepted"
    assert updates.already_accepted(redis_conn, "demo", "support", 77)
    assert not updates.already_accepted(redis_conn, "acme", "support", 77)
    updates.mark_accepted(redis_conn, "demo", "support", [78])
    assert post(client, tg.message(78, 12)).get_json()["status"] == "duplicate"
    assert len(queued(redis_conn)) == 1


def test_redis_down_is_503_with_retry_after_and_the_retry_is_accepted(
        sqlite_url, tmp_path, test_config, redis_url, redis_conn):
    down = make_runtime(sqlite_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path, test_config)
    update = tg.message(50005, 15)
    response = post(create_app(down).test_client(), update)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"]["code"] == "unavailable"
    up = make_runtime(sqlite_url, redis_url, tmp_path, test_config)
    assert post(create_app(up).test_client(), update).get_json()["status"] == "accepted"
    assert len(queued(redis_conn)) == 1
