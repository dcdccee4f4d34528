"""Fixtures of the outbound tests: a local SMTP sink as the relay, the signing key, an API
client, and inbound mail fed through the real intake and ingest job."""
from __future__ import annotations

import dataclasses
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

from queues.intake import Intake
from gateway.web import create_app
from tests.integration.harness import free_port
from workers.ingest.job import ingest_with
from workers.outbound import deliver

SIGNING_KEY = "test-signing-key-0123456789"


class Sink:
    """An aiosmtpd handler that keeps every mail it accepts (or refuses with ``answer``)."""

    def __init__(self):
        self.mails: list[tuple[str, list[str], bytes]] = []
        self.answer = ""   # e.g. "451 4.3.0 try later": refuse DATA with it

    async def handle_DATA(self, server, session, envelope):
        if self.answer:
            return self.answer
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def parsed(self, index: int = -1) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.mails[index][2])


@pytest.fixture
def sink():
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


@pytest.fixture(autouse=True)
def signing_key(monkeypatch, tmp_path):
    monkeypatch.setenv("TICKETGATE_SIGNING_KEY", SIGNING_KEY)
    monkeypatch.setenv("TICKETGATE_VAR_DIR", str(tmp_path / "var"))
    return SIGNING_KEY


def with_relay(rt, url: str):
    rt.settings = dataclasses.replace(rt.settings, smtp_relay_url=url)
    return rt


@pytest.fixture
def rt(sqlite_runtime, sink, api_keys):
    """SQLite runtime relaying to the sink."""
    return with_relay(sqlite_runtime, sink.url)


@pytest.fixture
def client(rt):
    return create_app(rt).test_client()


def auth(slug: str = "demo") -> dict:
    return {"Authorization": f"Bearer {slug}-test-key"}


def inbound(rt, msg: EmailMessage | bytes, rcpt_to=("support@demo.test",),
            workspace: str = "demo") -> str:
    """``msg`` through the intake and the ingest job, as the SMTP edge would hand it over."""
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    envelope = Intake(rt.redis).accept("email", workspace, "smtp", raw,
                                       {"rcpt_to": list(rcpt_to), "mail_from": ""})
    [outcome] = ingest_with(rt, [envelope])
    return outcome


def reply(client, number: int, text: str = "We are on it.", slug: str = "demo", **extra):
    return client.post(f"/api/v1/tickets/{number}/replies", json={"text": text, **extra},
                       headers=auth(slug))


def reply_and_deliver(rt, client, number: int = 1, text: str = "We are on it.") -> dict:
    response = reply(client, number, text)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    deliver.deliver_with(rt, body["id"])
    return body
