"""The OpenAPI records of the routes outside the REST API: health (``gateway.ops.health``) and
the inbound edges (contact form, chat, Telegram, inbound-parse: ``gateway.edges``).

They are public in the bearer-key sense: each edge authenticates its sender its own way (HMAC
signature, Telegram's secret token, basic auth, or nobody for the form), written in each
operation's description. The body models name the fields the edge reads; they describe, the
edge validates (it checks more than a schema can say: plausible email addresses, signatures,
the provider's own format), so a schema-valid body may still get a 400. The HTML pages answer
their errors as HTML pages. The payloads are documented in depth in docs/channels/.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.api.schemas import Error
from gateway.api.spec import JSON, Operation, Reply, describe, reply

HTML, TEXT = "text/html", "text/plain"
FORM_POST, URLENCODED = "multipart/form-data", "application/x-www-form-urlencoded"
KNOWN = {400: "Invalid input (see `fields`)", 401: "Bad signature, token or credentials",
         403: "Refused (origin not allowed; Postmark: not a Postmark post)",
         404: "Unknown workspace (or channel not configured)",
         406: "Mailgun: not a Mailgun post, stale timestamp or token used before",
         409: "The same submission is being sent already", 413: "Body too large",
         429: "Rate limited; retry after `Retry-After`",
         503: "Queue unavailable; retry after `Retry-After`"}
Provider = Literal["mailgun", "sendgrid", "postmark"]


class Open(BaseModel):
    """A body an edge reads some fields of; it may hold others."""
    model_config = ConfigDict(extra="allow")


class Accepted(BaseModel):
    status: Literal["accepted"]
    reference: str


class FormFields(Open):
    name: str = None
    email: str = None
    subject: str = None
    message: str = None
    website: str = Field(None, description="a honeypot: left empty by people")
    submission_id: str = None


class FormFile(Open):
    filename: str = None
    content_type: str = None
    data: str = Field(None, json_schema_extra={"contentEncoding": "base64"})


class FormJson(FormFields):
    attachments: list[FormFile] = None


class FormPost(FormFields):
    attachments: str = Field(None, json_schema_extra={"format": "binary"})


class Visitor(Open):
    id: str
    name: str = None
    email: str = None


class ChatFile(Open):
    url: str = None
    content_base64: str = None
    filename: str = None
    content_type: str = None


class ChatMessage(Open):
    conversation_id: str
    message_id: str
    text: str = None
    sent_at: str = None
    visitor: Visitor
    attachments: list[ChatFile] = None


class WidgetMessage(Open):
    text: str
    name: str = None
    email: str = None


class WidgetAccepted(Accepted):
    message_id: str
    sent_at: str
    session: str


class ChatHistory(BaseModel):
    conversation_id: str
    messages: list[Any]
    cursor: str


class TelegramUpdate(Open):
    update_id: int


class Workspace(BaseModel):
    workspace: str = Field(description="workspace slug")


class Bot(Workspace):
    bot: str = Field(description="bot name in the workspace file")


class ProviderPath(Workspace):
    provider: Provider = Field(description="mailgun, sendgrid or postmark")


class MimePath(Workspace):
    provider: Provider = Field(description="mailgun")


class Receipt(BaseModel):
    reference: str = Field(None, pattern="^[0-9A-F]{12}$", description="the receipt reference")


class ChatSession(BaseModel):
    session: str = Field(None, alias="X-Chat-Session",
                         description="the session token of an earlier answer")


class Since(BaseModel):
    since: str = Field(None, pattern="^[0-9]{1,18}$", description="`cursor` of an earlier answer")


class Signed(BaseModel):
    timestamp: str = Field(alias="X-Ticketgate-Timestamp", description="unix seconds")
    signature: str = Field(alias="X-Ticketgate-Signature",
                           description="hex HMAC-SHA256 of `timestamp.body`")


class BotSecret(BaseModel):
    secret: str = Field(alias="X-Telegram-Bot-Api-Secret-Token",
                        description="the bot's secret token")


def edge(summary: str, description: str, answers: dict[int, Reply], path: type[BaseModel],
         fail=(400, 404, 503), body: dict | None = None, page: bool = False,
         **details) -> Operation:
    """A public edge operation; ``page``: its errors are HTML pages (or JSON, when JSON was
    asked)."""
    failures = {status: Reply(KNOWN[status], {JSON: Error, **({HTML: str} if page else {})})
                for status in fail}
    return Operation(summary, {**answers, **failures}, errors=(), path=path, body=body or {},
                     description=description, public=True, **details)


def health(summary: str, answers: dict[int, Reply]) -> Operation:
    return Operation(summary, answers, errors=(), public=True)


def register() -> None:
    """Record every operation of this module (``gateway.api.spec.describe``)."""
    _health()
    _form()
    _chat()
    _providers()


def _health() -> None:
    describe("health.healthz", "get", health("The process is alive",
                                             {200: reply("Alive", dict)}))
    describe("health.readyz", "get", health("Redis and the store answer", {
        200: reply("Ready", dict), 503: reply("Not ready; says which check failed", dict)}))
    describe("health.prometheus_metrics", "get", health(
        "Prometheus metrics", {200: reply("Text exposition format", str, TEXT)}))


def _form() -> None:
    page = {200: reply("The page", str, HTML)}
    posted = {JSON: FormJson, FORM_POST: FormPost, URLENCODED: FormPost}
    refusals = (400, 403, 404, 409, 413, 429, 503)
    describe("form.show", "get", edge("The contact form page",
                                      "Embeddable HTML form (no JavaScript).", page, Workspace,
                                      (404,), page=True))
    describe("form.submit", "post", edge(
        "Submit the contact form",
        "Form post (HTML answer: 303 to the receipt, or the form again with its errors) or "
        "JSON (`Content-Type: application/json`, or `Accept` preferring JSON: 202 with the "
        "reference, errors as JSON).",
        {202: reply("Accepted", Accepted), 303: reply("Redirect to the receipt page")},
        Workspace, refusals, posted, page=True))
    describe("form.submit_json", "post", edge(
        "Submit the contact form as JSON", "CORS: the workspace's allowed origins.",
        {202: reply("Accepted", Accepted)}, Workspace, refusals, posted))
    describe("form.thanks", "get", edge(
        "The receipt page", "Shows the reference the customer can quote.", page, Workspace,
        (404,), page=True, query=Receipt))


def _chat() -> None:
    describe("chat.webhook", "post", edge(
        "Chat webhook", "HMAC-SHA256 of `timestamp.body` in `X-Ticketgate-Signature`, "
        "`X-Ticketgate-Timestamp` within the replay window.",
        {202: reply("Accepted", Accepted)}, Workspace, (400, 401, 404, 413, 503),
        {JSON: ChatMessage}, headers=Signed))
    describe("chat.widget.page", "get", edge(
        "The chat widget page", "Embeddable; posts through the chat path, signed server-side.",
        {200: reply("The page", str, HTML)}, Workspace, (404,)))
    describe("chat.widget.post_message", "post", edge(
        "Send a widget message", "Session token in `X-Chat-Session`.",
        {202: reply("Accepted", WidgetAccepted)}, Workspace, (400, 401, 404, 413, 429, 503),
        {JSON: WidgetMessage}, headers=ChatSession))
    describe("chat.widget.history", "get", edge(
        "The visitor's conversation", "Session token in `X-Chat-Session`.",
        {200: reply("Messages", ChatHistory)}, Workspace, (400, 401, 404),
        headers=ChatSession, query=Since))


def _providers() -> None:
    accepted = {200: reply("Accepted (or a duplicate update, answered the same)", dict)}
    posted = {FORM_POST: dict[str, str], URLENCODED: dict[str, str], JSON: dict}
    refusals = (400, 401, 403, 404, 406, 413, 503)
    describe("telegram_webhook.receive", "post", edge(
        "Telegram webhook", "`X-Telegram-Bot-Api-Secret-Token` must match the bot's secret.",
        accepted, Bot, (400, 401, 404, 413, 503), {JSON: TelegramUpdate}, headers=BotSecret))
    describe("inbound_parse.receive", "post", edge(
        "Inbound mail from a provider", "`provider`: mailgun (signature), sendgrid or postmark "
        "(basic auth).", accepted, ProviderPath, refusals, posted),
        rule="/hooks/inbound/<provider>/<workspace>")
    describe("inbound_parse.receive", "post", edge(
        "Inbound raw MIME from a provider", "Mailgun routes to a URL ending in `mime` post the "
        "whole message in `body-mime`.", accepted, MimePath, refusals, posted),
        rule="/hooks/inbound/<provider>/<workspace>/mime")
