"""The web process: Flask app factory binding the REST API, health, metrics and the HTTP edges.

``create_app(runtime=None)`` builds everything from the environment unless a ``Runtime`` is given
(tests pass their own) and installs it (``gateway.app_runtime``: what views read it through).
gunicorn runs it as ``gateway.web:create_app()``.
"""
from __future__ import annotations

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config.logs import configure_logging
from config.settings import load_settings
from gateway import app_runtime, errors
from gateway.api.root import api
from gateway.edges import http, inbound_parse
from gateway.edges.chat import views as chat
from gateway.edges.form import views as form
from gateway.edges.telegram import webhook as telegram
from gateway.ops import dashboard, health
from queues.runtime import Runtime, build_runtime

MAX_CONTENT_LENGTH = 40 * 1024 * 1024  # bytes; larger request bodies get 413 before any parsing
# The inbound HTTP edges, each a blueprint with its own paths.
EDGES = (form.bp, chat.bp, telegram.bp, inbound_parse.bp)


def create_app(runtime: Runtime | None = None) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    rt = app_runtime.install(app, runtime or build_runtime(load_settings()))
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api)  # the REST API at /api/v1, authenticated once (gateway.api.root)
    for blueprint in EDGES:
        app.register_blueprint(blueprint)
    count_edge_requests(app, {blueprint.name for blueprint in EDGES})
    dashboard.init_app(app)  # /ops, off without OPS_TOKEN
    hops = rt.settings.proxy_hops
    if hops:  # client address and scheme from X-Forwarded-* set by that many trusted proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    configure_logging("web")
    return app


def count_edge_requests(app: Flask, names: set[str]) -> None:
    """Tell the group commit (``gateway.edges.http.group``) how many edge requests are in flight, so
    a write waits for the requests that will submit soon and for no others."""

    @app.before_request
    def _started():
        if request.blueprints and request.blueprints[-1] in names:
            g.edge_request = True
            http.group().started()

    @app.teardown_request
    def _finished(_exc):
        if g.pop("edge_request", False):
            http.group().finished()
