"""The web process: Flask app factory binding the REST API, health, metrics and the HTTP edges.

``create_app(runtime=None)`` builds everything from the environment unless a ``Runtime`` is given
(tests pass their own). gunicorn runs it as ``gateway.web:create_app()``.
"""
from __future__ import annotations

import importlib

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from queues.runtime import Runtime, build_runtime
from config.logs import configure_logging
from config.settings import load_settings

MAX_CONTENT_LENGTH = 40 * 1024 * 1024  # bytes; larger request bodies get 413 before any parsing
# The inbound HTTP edges: each module has a blueprint ``bp`` with its own paths.
EDGES = ("gateway.edges.form.views", "gateway.edges.chat.views", "gateway.edges.telegram.webhook", "gateway.edges.inbound_parse")


def create_app(runtime: Runtime | None = None) -> Flask:
    from gateway.api import tickets
    from gateway import errors
    from gateway.ops import health

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.extensions["ticketgate"] = runtime or build_runtime(load_settings())
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(tickets.bp, url_prefix="/api/v1")
    app.register_blueprint(importlib.import_module("gateway.api.actions").bp, url_prefix="/api/v1")
    for module in ("gateway.api.agents", "gateway.api.patch", "gateway.api.offers",
                   "gateway.api.customers"):
        app.register_blueprint(importlib.import_module(module).bp, url_prefix="/api/v1")
    edges = [importlib.import_module(module).bp for module in EDGES]
    for blueprint in edges:
        app.register_blueprint(blueprint)
    count_edge_requests(app, {blueprint.name for blueprint in edges})
    importlib.import_module("gateway.ops.dashboard").init_app(app)  # /ops, off without OPS_TOKEN
    hops = app.extensions["ticketgate"].settings.proxy_hops
    if hops:  # client address and scheme from X-Forwarded-* set by that many trusted proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    configure_logging("web")
    return app


def count_edge_requests(app: Flask, names: set[str]) -> None:
    """Tell the group commit (``gateway.edges.http.group``) how many edge requests are in flight, so
    a write waits for the requests that will submit soon and for no others."""
    from gateway.edges import http

    @app.before_request
    def _started():
        if request.blueprints and request.blueprints[-1] in names:
            g.edge_request = True
            http.group().started()

    @app.teardown_request
    def _finished(_exc):
        if g.pop("edge_request", False):
            http.group().finished()


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["ticketgate"]
