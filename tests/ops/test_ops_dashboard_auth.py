"""Who gets into the ops dashboard (/ops) and the RQ pages under it (/ops/rq): off without
OPS_TOKEN, the bearer header, the login form's cookie, CSRF and cross-site refusals."""
from __future__ import annotations

import dataclasses
import re

import pytest

from config.settings import load_settings
from gateway.web import create_app
from tests.ops.pages import form

TOKEN = "ops-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
BROWSER = {"Accept": "text/html,application/xhtml+xml"}
SAME_ORIGIN = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
PAGES = ["/ops", "/ops/", "/ops/rq/", "/ops/rq/0/view/workers", "/ops/rq/0/data/queues.json"]
ACTIONS = ["/ops/quarantine/1/replay", "/ops/quarantine/replay", "/ops/failed/email/abc/replay",
           "/ops/failed/email/replay", "/ops/logout", "/ops/rq/job/abc/requeue"]


def with_token(rt, token: str):
    rt.settings = dataclasses.replace(rt.settings, ops_token=token)
    return rt


@pytest.fixture
def client(sqlite_runtime):
    return create_app(with_token(sqlite_runtime, TOKEN)).test_client()


def log_in(client, token: str = TOKEN):
    return client.post("/ops/login", data={"token": token}, headers=SAME_ORIGIN)


def csrf_of(client) -> str:
    page = client.get("/ops").get_data(as_text=True)
    return form(page, "Log out").fields["csrf_token"]


# --- off ---

@pytest.mark.parametrize("path", [*PAGES, "/ops/login", "/ops/static/ops.css"])
def test_without_ops_token_every_ops_page_is_404(sqlite_runtime, path):
    client = create_app(sqlite_runtime).test_client()
    assert client.get(path, headers=BEARER).status_code == 404


@pytest.mark.parametrize("path", ACTIONS + ["/ops/login"])
def test_without_ops_token_every_ops_action_is_404(sqlite_runtime, path):
    client = create_app(sqlite_runtime).test_client()
    assert client.post(path, headers={**BEARER, **SAME_ORIGIN}).status_code == 404


def test_ops_token_is_read_from_the_environment():
    assert load_settings({"OPS_TOKEN": TOKEN}).ops_token == TOKEN
    assert load_settings({}).ops_token == ""


# --- not logged in ---

@pytest.mark.parametrize("path", PAGES)
def test_api_clients_without_credentials_get_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("path", ["/ops", "/ops/rq/"])
def test_browsers_without_a_session_are_sent_to_the_login_form(client, path):
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/ops/login")
    login = client.get("/ops/login", headers=BROWSER)
    assert login.status_code == 200
    assert '<label for="token">Ops token</label>' in login.get_data(as_text=True)


@pytest.mark.parametrize("path", ACTIONS)
def test_actions_without_credentials_get_401(client, path):
    assert client.post(path, headers=SAME_ORIGIN).status_code == 401


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer wrong", f"Basic {TOKEN}",
                                           f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
                                           "Bearer ünïcode"])
def test_wrong_bearer_tokens_get_401(client, authorization):
    assert client.get("/ops", headers={"Authorization": authorization}).status_code == 401
    assert client.get("/ops/rq/", headers={"Authorization": authorization}).status_code == 401


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_the_bearer_token_opens_the_dashboard_and_the_rq_pages(client, scheme):
    headers = {"Authorization": f"{scheme} {TOKEN}"}
    page = client.get("/ops", headers=headers)
    assert page.status_code == 200
    assert "<h1>Operations</h1>" in page.get_data(as_text=True)
    assert "Log out" not in page.get_data(as_text=True)  # nothing to log out of
    assert client.get("/ops/rq/", headers=headers).status_code == 200
    assert client.get("/ops/rq/0/data/queues.json", headers=headers).status_code == 200


# --- the login form and its cookie ---

def test_a_wrong_token_in_the_form_is_401_and_sets_no_cookie(client):
    response = log_in(client, "not-it")
    assert response.status_code == 401
    assert "That is not the ops token." in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert client.get("/ops").status_code == 401


def test_the_right_token_sets_a_secure_httponly_strict_cookie_that_opens_the_pages(client):
    response = log_in(client)
    assert response.status_code == 303 and response.headers["Location"].startswith("/ops")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("tg_ops=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/ops", "Max-Age=43200"):
        assert attribute in cookie
    assert TOKEN not in cookie
    assert client.get("/ops").status_code == 200
    assert client.get("/ops/rq/0/data/workers.json").status_code == 200


def test_login_attempts_are_rate_limited_per_address(client):
    statuses = [log_in(client, f"guess-{n}").status_code for n in range(11)]
    assert statuses == [401] * 10 + [429]
    assert log_in(client).status_code == 429  # even the right token, until the minute passes


def test_a_cookie_of_another_token_no_longer_opens_the_dashboard(sqlite_runtime):
    app = create_app(with_token(sqlite_runtime, TOKEN))
    client = app.test_client()
    log_in(client)
    with_token(sqlite_runtime, "a-rotated-token-987654321")
    assert client.get("/ops").status_code == 401


def test_a_forged_cookie_is_refused(client):
    client.set_cookie("tg_ops", "eyJjc3JmIjoieCJ9.forged.signature", path="/ops")
    assert client.get("/ops").status_code == 401


def test_logout_clears_the_cookie(client):
    log_in(client)
    response = client.post("/ops/logout", data={"csrf_token": csrf_of(client)},
                           headers=SAME_ORIGIN)
    assert response.status_code == 303
    assert re.search(r"tg_ops=;.*Expires=Thu, 01 Jan 1970", response.headers["Set-Cookie"])
    assert client.get("/ops").status_code == 401


# --- CSRF and cross-site requests ---

def test_a_cookie_post_without_the_csrf_token_is_403(client):
    log_in(client)
    response = client.post("/ops/failed/email/replay", headers=SAME_ORIGIN)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf"


def test_a_cookie_post_with_a_wrong_csrf_token_is_403(client):
    log_in(client)
    response = client.post("/ops/failed/email/replay", data={"csrf_token": "guess"},
                           headers=SAME_ORIGIN)
    assert response.status_code == 403


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.test"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
                                     {}])
def test_a_cookie_post_from_another_site_or_nowhere_is_403(client, headers):
    log_in(client)
    csrf = csrf_of(client)
    response = client.post("/ops/failed/email/replay", data={"csrf_token": csrf},
                           headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "cross_site"
    assert client.post("/ops/rq/job/abc/requeue", headers=headers).status_code == 403


def test_a_cookie_post_with_the_csrf_token_from_this_site_works(client):
    log_in(client)
    response = client.post("/ops/failed/email/replay", data={"csrf_token": csrf_of(client)},
                           headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303


def test_a_bearer_post_needs_no_csrf_token(client):
    assert client.post("/ops/failed/email/replay", headers=BEARER).status_code == 303


def test_rq_dashboards_requeue_all_refuses_get_and_its_delete_is_off(client):
    assert client.get("/ops/rq/requeue/email", headers=BEARER).status_code == 405
    assert client.post("/ops/rq/requeue/email", headers=BEARER).get_json()["status"] == "OK"
    deleted = client.post("/ops/rq/job/abc/delete", headers=BEARER)
    assert deleted.get_json()["status"] == "DISABLED"


def test_pages_forbid_framing_and_scripts_from_elsewhere(client):
    page = client.get("/ops", headers=BEARER)
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert page.headers["Cache-Control"] == "no-store"
    assert client.get("/ops/rq/", headers=BEARER).headers["X-Frame-Options"] == "DENY"


def test_the_launch_banner_says_whether_the_dashboard_is_on_and_never_prints_the_token(
        tmp_path):
    from tests.ops.test_launcher_secrets import make_banner
    assert "/ops  (off: set OPS_TOKEN to turn it on)" in make_banner({}, tmp_path / "off")
    text = make_banner({"OPS_TOKEN": TOKEN}, tmp_path / "on")
    assert "/ops  (log in with $OPS_TOKEN)" in text and TOKEN not in text
