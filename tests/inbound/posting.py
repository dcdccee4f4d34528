"""Posting provider payloads to the edge with the Flask test client."""
from __future__ import annotations

import base64
import json

from tests.inbound.fixtures import mailgun, postmark, sendgrid


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def post_form(client, path: str, fields, files=(), headers=None):
    body, content_type = mailgun.encode(fields, files)
    return client.post(path, data=body, content_type=content_type, headers=headers or {})


def post_mailgun(client, fields, files=(), workspace="demo", signed=None, suffix=""):
    signed = mailgun.signature() if signed is None else signed
    return post_form(client, f"/hooks/inbound/mailgun/{workspace}{suffix}",
                     list(fields) + signed, files)


def post_sendgrid(client, fields, files=(), workspace="demo", auth=None):
    auth = basic(sendgrid.USER, sendgrid.PASSWORD) if auth is None else auth
    return post_form(client, f"/hooks/inbound/sendgrid/{workspace}", fields, files, auth)


def post_postmark(client, data, workspace="demo", auth=None, raw: bytes | None = None):
    auth = basic(postmark.USER, postmark.PASSWORD) if auth is None else auth
    body = raw if raw is not None else json.dumps(data).encode()
    return client.post(f"/hooks/inbound/postmark/{workspace}", data=body,
                       content_type="application/json", headers=auth)
