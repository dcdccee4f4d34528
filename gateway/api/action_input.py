"""The bodies and headers of the agent actions (``gateway.api.actions``) as the pydantic models
that validate them and describe them in the OpenAPI document: a reply (text or a canned
response, html, attachments, recipients), a note, a merge, and their headers."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from gateway.api import canned_reply, collision, params as wire, schemas
from gateway.api.params import TicketNumber
from gateway.api.requests import MAX_TEXT, NO_NUL, NOT_BLANK, ONE_LINE, SPACE, ApiRequest
from gateway.api.spec import reply

MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_AUTHOR = 100
MAX_IDEMPOTENCY_KEY = 200
MAX_FILENAME = 255
# Attachment names and types become MIME headers of the outbound mail: one line, no controls.
FILENAME = f"^[^\\x00-\\x1f\\x7f/]*[^\\x00-\\x1f\\x7f/{SPACE}][^\\x00-\\x1f\\x7f/]*$"
CONTENT_TYPE = "^[A-Za-z0-9_.+-]{1,50}/[A-Za-z0-9_.+-]{1,50}$"  # type/subtype, no parameters
BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"  # as b64decode(validate)
MAX_TO, MAX_CC, MAX_BCC = 10, 20, 20   # recipients an agent may name per list
MAX_ADDRESS = 254
# A plain addr-spec (no display name, no comments, ASCII; an IDN domain in its xn-- form): no
# comma, quote, bracket, space or control character can reach a mail header through it.
ADDRESS = ("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
           "@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]"
           "(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
ADDRESS_RULE = "a mail address such as ann@example.com (no name, no brackets)"
AUTHOR_RULE = f"a string of at most {MAX_AUTHOR} characters, no control characters"
Author = Annotated[str, Field(max_length=MAX_AUTHOR, pattern=ONE_LINE,
                              description="the agent, as recorded in the audit trail")]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK)]
Address = Annotated[str, Field(max_length=MAX_ADDRESS, pattern=ADDRESS)]


def _fits(content: str) -> str:
    """At most ``MAX_ATTACHMENT_BYTES`` once decoded (``content`` is canonical base64)."""
    if len(content) // 4 * 3 - content[-2:].count("=") > MAX_ATTACHMENT_BYTES:
        raise ValueError("too large")
    return content


class AttachmentIn(ApiRequest):
    IGNORED_UNKNOWN = True
    filename: str = Field(max_length=MAX_FILENAME, pattern=FILENAME,
                          description="one line: no '/', no control characters (CR, LF, NUL)")
    content_type: str = Field("application/octet-stream", pattern=CONTENT_TYPE,
                              description="type/subtype without parameters")
    content: Annotated[str, Field(max_length=(MAX_ATTACHMENT_BYTES + 2) // 3 * 4,
                                  pattern=BASE64, json_schema_extra={
                                      "contentEncoding": "base64"}), AfterValidator(_fits)]


class NoteIn(ApiRequest):
    """``POST /tickets/<n>/notes``; unknown fields are ignored, ``html`` is refused."""
    IGNORED_UNKNOWN = True
    REFUSED = frozenset({"html"})
    MESSAGES = {"text": "required: a non-empty string",
                "text:string_too_long": f"at most {MAX_TEXT} characters",
                "html": "not accepted here", "author": AUTHOR_RULE}
    text: Text
    author: Author = ""


class ReplyIn(NoteIn, json_schema_extra=canned_reply.ONE_OF):
    """``POST /tickets/<n>/replies``; unknown fields are ignored; ``text`` or ``canned``."""
    REFUSED = frozenset()
    MESSAGES = {**NoteIn.MESSAGES, **canned_reply.MESSAGES,
                "html": f"a string of at most {MAX_TEXT * 4} characters",
                "attachments": f"a list of at most {MAX_ATTACHMENTS} objects",
                "attachments[]": "must be an object {filename, content_type, content}",
                "attachments[].filename": f"a file name of 1-{MAX_FILENAME} characters, no "
                                          "'/', no control characters (CR, LF, NUL)",
                "attachments[].content_type": "a MIME type such as application/pdf "
                                              "(type/subtype, no parameters)",
                "attachments[].content": "base64 of the file's bytes",
                "attachments[].content:string_too_long": f"at most {MAX_ATTACHMENT_BYTES} bytes",
                "attachments[].content:value_error": f"at most {MAX_ATTACHMENT_BYTES} bytes",
                "to": f"a list of 1-{MAX_TO} mail addresses", "to[]": ADDRESS_RULE,
                "cc": f"a list of at most {MAX_CC} mail addresses", "cc[]": ADDRESS_RULE,
                "bcc": f"a list of at most {MAX_BCC} mail addresses", "bcc[]": ADDRESS_RULE}
    html: str = Field("", max_length=MAX_TEXT * 4, pattern=NO_NUL)
    attachments: list[AttachmentIn] | None = Field(None, max_length=MAX_ATTACHMENTS)
    text: Text = None  # required unless ``canned`` (gateway.api.canned_reply)
    canned: int = canned_reply.CANNED_FIELD
    check_text_or_canned = canned_reply.text_or_canned
    check_not_both = canned_reply.not_both
    to: list[Address] | None = Field(None, min_length=1, max_length=MAX_TO, description=(
        "email tickets: instead of the customer"))
    cc: list[Address] | None = Field(None, max_length=MAX_CC, description=(
        "email tickets: instead of reply-all's Cc (the other participants of the customer's "
        "latest mail); [] for none"))
    bcc: list[Address] | None = Field(None, max_length=MAX_BCC, description=(
        "email tickets: blind copies (the envelope's only, never a header)"))


class MergeIn(ApiRequest):
    """``POST /tickets/<n>/merge``; unknown fields are ignored."""
    IGNORED_UNKNOWN = True
    MESSAGES = {"into": "must be the number of a ticket of this workspace",
                "author": AUTHOR_RULE}
    into: int = Field(ge=1, le=wire.MAX_TICKET_NUMBER)
    author: Author = ""


class ActionHeaders(ApiRequest):
    MESSAGES = {"Idempotency-Key": f"at most {MAX_IDEMPOTENCY_KEY} characters, no control "
                                   "characters"}
    idempotency_key: str = Field("", alias="Idempotency-Key", max_length=MAX_IDEMPOTENCY_KEY,
                                 pattern=ONE_LINE, description="a retried request with the "
                                 "same key returns the first message")


class ReplyHeaders(ActionHeaders, collision.IfMatchHeaders):
    """A reply's headers: ``Idempotency-Key`` and ``If-Match``."""


NUMBER_AND_KEY = dict(path=TicketNumber, headers=ActionHeaders)
TICKET_CHANGED = reply("If-Match: the ticket changed since that ETag (`ticket_changed`, with "
                       "what changed since)", schemas.TicketChanged)
