"""RQ's own web pages (rq-dashboard 0.9.0: queues, every job registry, job details with
tracebacks, workers) mounted at ``/ops/rq`` behind the ops dashboard's login.

rq-dashboard is a Flask blueprint with no authentication of its own. Here it gets:
- the same guard as ``/ops`` (``OPS_TOKEN``, cookie or bearer); its buttons post with jQuery
  and carry no CSRF token, so a cookie-authenticated POST must come from this site (``Origin``;
  the cookie is also ``SameSite=Strict``), and its one state-changing GET (``/requeue/<queue>``)
  is refused: requeue from its pages (POST) or from ``/ops``;
- deleting and emptying turned off (``RQ_DASHBOARD_DISABLE_DELETE``): failed jobs are replayable
  input and are never thrown away from a web page;
- the web process's own Redis client: rq-dashboard makes a client from its URL list on every
  request; it is replaced before any use (redis-py connects lazily), so no connection is opened
  besides the runtime's pool.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from rq_dashboard import web as rq_web

from gateway.ops import dashboard_auth as auth
from gateway.app_runtime import runtime

PREFIX = "/ops/rq"
POLL_INTERVAL_MS = 5000  # how often its pages re-read the queues
STATE_CHANGING_GETS = ("rq_dashboard.requeue_all",)
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin",
           "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


@rq_web.blueprint.before_request  # after rq-dashboard's own, which made a client of its own
def _use_the_runtime_redis() -> None:
    current_app.redis_conn = runtime().redis


def init_app(app: Flask) -> None:
    rt = runtime(app)
    app.config.update(RQ_DASHBOARD_REDIS_URL=(rt.settings.redis_url,),
                      RQ_DASHBOARD_DISABLE_DELETE=True,
                      RQ_DASHBOARD_POLL_INTERVAL=POLL_INTERVAL_MS)
    app.register_blueprint(rq_web.blueprint, url_prefix=PREFIX)
    app.redis_conn = rt.redis
    app.before_request(_guard)
    app.after_request(_headers)


def _mounted() -> bool:
    return request.blueprint == rq_web.blueprint.name


def _guard():
    if not _mounted():
        return None
    answer = auth.require_login(forms_carry_csrf=False)
    if answer is None and request.method == "GET" and request.endpoint in STATE_CHANGING_GETS:
        return {"error": {"code": "method_not_allowed", "message": "requeue with POST",
                          "fields": {}}}, 405, {"Allow": "POST"}
    return answer


def _headers(response):
    if _mounted():
        response.headers.update(HEADERS)
    return response
