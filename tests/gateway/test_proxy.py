"""Behind trusted reverse proxies the web process sees the client's address, not the proxy's."""
from dataclasses import replace

from flask import request

from gateway.web import create_app


def client_address_app(runtime, hops):
    runtime.settings = replace(runtime.settings, proxy_hops=hops)
    app = create_app(runtime)
    app.add_url_rule("/_addr", "addr", lambda: request.remote_addr)
    return app.test_client()


def forwarded_get(client):
    return client.get("/_addr", headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.2"},
                      environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_data(as_text=True)


def test_forwarded_for_is_ignored_without_trusted_proxies(sqlite_runtime):
    assert forwarded_get(client_address_app(sqlite_runtime, 0)) == "10.0.0.1"


def test_each_trusted_hop_is_peeled_off(sqlite_runtime):
    assert forwarded_get(client_address_app(sqlite_runtime, 1)) == "10.0.0.2"
    assert forwarded_get(client_address_app(sqlite_runtime, 2)) == "203.0.113.7"
