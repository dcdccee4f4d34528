"""schemathesis over /api/v1/openapi.json, in-process: the document matches what the server does.

The schema is loaded from the Flask app (``schemathesis.openapi.from_wsgi``) and schemathesis'
engine (what its CLI runs) sends the document's examples and fuzzed requests, positive and
negative, to every operation, derandomized and bounded (``MAX_EXAMPLES``), with the checks: no
server error, responses match their schema, status codes and content types are documented, and
for the REST API a schema-valid request is never refused as invalid. Dictionaries point the
path parameters at rows and workspaces that exist, and the edges get their credentials, so the
requests reach the code behind them.

Deeper runs on demand: ``TG_SCHEMATHESIS_EXAMPLES=200`` sends more examples;
``TG_SCHEMATHESIS_COVERAGE=1`` adds the coverage phase (boundary values of every constraint,
about 1,000 requests per operation: a few minutes) without the schema-valid-accepted check: in
schemathesis 4.32.5 that phase reports false positives for it (a negative placeholder body ``0``
in cases that vary a header, and body values that ignore the configured dictionaries, such as
an unknown agent calendar).
(The pytest plugin ``schemathesis.pytest.from_fixture`` does not run under pytest 9.2: it reads
``Function._nodeid``, which pytest removed.)
"""
from __future__ import annotations

import base64
import io
import logging
import os
import time
from collections import defaultdict

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from gateway.edges.chat.intake import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, site_or_404
from gateway.edges.chat.widget import SESSION_HEADER, session_token
from gateway.api.params import encode_cursor
from tests.api_fuzz.conftest import SECRETS, bearer

# Examples per operation: 10 keeps the whole test under ~60 s; raise it for a longer run.
MAX_EXAMPLES = int(os.environ.get("TG_SCHEMATHESIS_EXAMPLES", "10"))
COVERAGE = os.environ.get("TG_SCHEMATHESIS_COVERAGE") == "1"
NOT_REACHED = {401, 404, 405}      # a request answered so never got past routing and keys
DOCUMENT = "GET /api/v1/openapi.json"  # schemathesis never tests the path it loaded from
EDGE_ONLY = r"^/(contact|chat|hooks)/"  # edges check more than a schema says (see gateway/api/edge_docs.py)


def basic_auth() -> str:
    pair = f"{SECRETS['TG_FUZZ_USER']}:{SECRETS['TG_FUZZ_PASSWORD']}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def st_config(chat_session: str) -> SchemathesisConfig:
    """Checks, bounds and the values that make requests reach the code behind the routes."""
    return SchemathesisConfig.from_dict({
        "cache": {"enabled": False}, "headers": bearer(),
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "phases": {"coverage": {"enabled": COVERAGE}, "stateful": {"enabled": False}},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True},
                   "response_schema_conformance": {"enabled": True},
                   "status_code_conformance": {"enabled": True},
                   "content_type_conformance": {"enabled": True},
                   # 412: a valid If-Match of a ticket that changed since (ticket_changed)
                   "positive_data_acceptance": {"enabled": not COVERAGE, "expected-statuses": [
                       "2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]}},
        "dictionaries": {"workspaces": {"values": ["demo"]}, "bots": {"values": ["support"]},
                         "calendars": {"values": ["", "office"]},
                         "canned-to-delete": {"values": [2]},
                         **{f"cursors-{kind}": {"values": ["", encode_cursor(kind, 10**6)]}
                            for kind in "tcqen"}},
        "parameters": {"path.workspace": {"dictionary": "workspaces", "probability": 0.9},
                       "path.bot": {"dictionary": "bots", "probability": 0.9},
                       "body.calendar": {"dictionary": "calendars"}},
        "operations": [
            *({"include-path": f"/api/v1/{path}",
               "parameters": {"query.cursor": {"dictionary": f"cursors-{kind}"}}}
              for path, kind in (("tickets", "t"), ("customers", "c"), ("quarantine", "q"),
                                 ("tickets/{number}/events", "e"), ("canned", "n"))),
            {"include-name": "DELETE /api/v1/canned/{id}",  # canned 1 stays for the others
             "parameters": {"path.id": {"dictionary": "canned-to-delete", "probability": 0.9}}},
            {"include-path-regex": EDGE_ONLY,
             "checks": {"positive_data_acceptance": {"enabled": False}}},
            # `to` after `from`, the range's length and an IANA `tz` are beyond a schema.
            {"include-path-regex": "^/api/v1/reports/",
             "checks": {"positive_data_acceptance": {"enabled": False}}},
            {"include-path-regex": "^/hooks/telegram/",
             "headers": {"X-Telegram-Bot-Api-Secret-Token": SECRETS["TG_FUZZ_BOT_SECRET"]}},
            {"include-path-regex": "^/hooks/inbound/", "headers": {"Authorization": basic_auth()}},
            {"include-name": "GET /chat/{workspace}/messages",
             "headers": {SESSION_HEADER: chat_session}},
        ],
    })


def signing(app, secret: str):
    """WSGI middleware: sign every chat webhook request as its sender would (the signature
    covers the body schemathesis generated)."""
    inner = app.wsgi_app

    def middleware(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/hooks/chat/"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            timestamp = str(int(time.time()))
            environ["wsgi.input"] = io.BytesIO(body)
            environ["HTTP_" + TIMESTAMP_HEADER.upper().replace("-", "_")] = timestamp
            environ["HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")] = sign(
                secret, timestamp, body)
        return inner(environ, start_response)

    app.wsgi_app = middleware
    return app


def run(schema) -> tuple[dict, list]:
    """Run the engine: status codes seen per operation, and every check that failed."""
    seen: dict[str, set[int]] = defaultdict(set)
    failures = []
    for event in from_schema(schema).execute():
        if isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.append(("error", getattr(event, "label", ""), str(event)))
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                seen[recorder.label].add(interaction.response.status_code)
        for case_id, checks in recorder.checks.items():
            failures += [(recorder.label, check.name, _describe(recorder, case_id, check))
                         for check in checks if check.failure_info is not None]
    return seen, failures


def _describe(recorder, case_id: str, check) -> str:
    case = recorder.cases[case_id].value
    failure = check.failure_info.failure
    response = recorder.interactions[case_id].response
    answer = response.content[:300] if response is not None else b""
    return (f"{failure.title}: {failure.message[:300]} | path={case.path_parameters} "
            f"query={case.query} body={str(case.body)[:300]} -> {answer!r}")


@pytest.fixture
def api_schema(fuzz_app, edge_secrets):
    app = signing(fuzz_app, edge_secrets["TG_FUZZ_CHAT_SECRET"])
    with app.app_context():
        chat_session = session_token(site_or_404("demo"), "w-fuzz-visitor", "w-fuzz-chat")
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app,
                                          config=st_config(chat_session))


def test_every_operation_is_reached_and_matches_the_document(api_schema, caplog):
    caplog.set_level(logging.WARNING)
    operations = {f"{method.upper()} {path}" for path, item in api_schema.raw_schema["paths"]
                  .items() for method in item} - {DOCUMENT}  # loading the schema fetched it
    started = time.monotonic()
    seen, failures = run(api_schema)
    reached = {label for label, statuses in seen.items() if statuses - NOT_REACHED}
    print(f"schemathesis: {len(reached)} of {len(operations)} operations reached (and the "
          f"document itself), "
          f"{sum(map(len, seen.values()))} distinct statuses, "
          f"{time.monotonic() - started:.1f} s")
    assert failures == [], "\n".join(map(str, failures))
    assert reached == operations, sorted(operations - reached)
