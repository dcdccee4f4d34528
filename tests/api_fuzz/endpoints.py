"""Every HTTP endpoint that reads a JSON body, with what a sender adds to get past authentication.

``post(client, endpoint, body)`` sends raw bytes as ``application/json`` with the endpoint's
credentials (the chat webhook's signature is computed over exactly these bytes), so a test
sees what the code behind authentication does with the body. Rows of the ``fuzz_app`` fixture:
ticket 1, customer 1, agent ``alice``, canned responses 1 and 2.
"""
from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

from gateway.edges.chat.intake import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.api_fuzz.conftest import SECRETS, bearer


def basic_auth() -> dict:
    pair = f"{SECRETS['TG_FUZZ_USER']}:{SECRETS['TG_FUZZ_PASSWORD']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    signed: bool = False      # chat webhook: HMAC of timestamp.body
    reject_status: int = 400  # Postmark stops retrying on 403 only

    def __str__(self) -> str:
        return self.name


API = [Endpoint("reply", "post", "/api/v1/tickets/1/replies", bearer()),
       Endpoint("note", "post", "/api/v1/tickets/1/notes", bearer()),
       Endpoint("merge", "post", "/api/v1/tickets/1/merge", bearer()),
       Endpoint("patch ticket", "patch", "/api/v1/tickets/1", bearer()),
       Endpoint("accept", "post", "/api/v1/tickets/1/accept", bearer()),
       Endpoint("decline", "post", "/api/v1/tickets/1/decline", bearer()),
       Endpoint("put agent", "put", "/api/v1/agents/alice", bearer()),
       Endpoint("patch customer", "patch", "/api/v1/customers/1", bearer()),
       Endpoint("create canned", "post", "/api/v1/canned", bearer()),
       Endpoint("put canned", "put", "/api/v1/canned/1", bearer())]
EDGES = [Endpoint("form json", "post", "/contact/demo/submit.json"),
         Endpoint("form post as json", "post", "/contact/demo"),
         Endpoint("chat webhook", "post", "/hooks/chat/demo", signed=True),
         Endpoint("chat widget", "post", "/chat/demo/messages"),
         Endpoint("telegram", "post", "/hooks/telegram/demo/support",
                  {"X-Telegram-Bot-Api-Secret-Token": SECRETS["TG_FUZZ_BOT_SECRET"]}),
         Endpoint("postmark", "post", "/hooks/inbound/postmark/demo", basic_auth(),
                  reject_status=403)]
ALL = API + EDGES


def post(client, endpoint: Endpoint, body: bytes, headers: dict | None = None):
    sent = {"Content-Type": "application/json", **endpoint.headers, **(headers or {})}
    if endpoint.signed:
        timestamp = str(int(time.time()))
        sent |= {TIMESTAMP_HEADER: timestamp,
                 SIGNATURE_HEADER: sign(SECRETS["TG_FUZZ_CHAT_SECRET"], timestamp, body)}
    return getattr(client, endpoint.method)(endpoint.path, data=body, headers=sent)


def error_of(response) -> dict:
    """The project's error shape, checked: ``{"error": {"code", "message", "fields"}}``."""
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]
    return error
