"""The web app's one ``Runtime`` (settings, config, sessions, blobs, redis): ``install`` puts it
in ``app.extensions`` when ``gateway.web.create_app`` builds the app, ``runtime`` reads it back
(the current app's unless one is given). Every view, the edges' shared code and the health
checks read it here, so nothing below the app factory imports the factory."""
from __future__ import annotations

from flask import Flask, current_app

from queues.runtime import Runtime

EXTENSION = "ticketgate"  # app.extensions key of the Runtime


def install(app: Flask, rt: Runtime) -> Runtime:
    app.extensions[EXTENSION] = rt
    return rt


def runtime(app: Flask | None = None) -> Runtime:
    """The Runtime of ``app``, or of the app handling the current request."""
    return (app or current_app).extensions[EXTENSION]
