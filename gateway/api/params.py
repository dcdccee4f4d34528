"""Request parameters of the REST API: query parameters, opaque cursors, the JSON body.

Every parameter is validated before it reaches the database, so bad input is a 400 with a
message per field, never a 500. ``json_body`` is the one way an API view reads its body
(``gateway.json_input`` with strict text: NUL and lone surrogates are refused, naming the field).

The pydantic models at the end (``PageQuery``, ``TicketQuery``, ``TicketNumber``, ...) are the
parameters as the OpenAPI document shows them (``gateway.api.spec``), built on the same
constants. The functions above them parse the parameters: query strings are trimmed, ``status``
is split at commas, a cursor is decoded for one list only, and each message names its parameter.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

from flask import request
from pydantic import BaseModel, Field

from gateway import json_input
from gateway.errors import ApiError, bad_request
from queues.channels import CHANNEL_IDS, FORMER_NAMES
from store.models import STATUSES

DEFAULT_LIMIT = 50              # items per page when `limit` is not given
MAX_LIMIT = 200                 # largest page a client may ask for
MAX_TEXT_PARAM = 500            # characters; a longer filter value is refused, not truncated
MAX_TICKET_NUMBER = 2**31 - 1   # ticket numbers are 32-bit INTEGER columns
MAX_ROW_ID = 2**63 - 1          # row ids are BIGINT columns
TICKET_CURSOR, ENTRY_CURSOR = "t", "q"  # cursor prefixes: one list's cursor is refused by another
EVENT_CURSOR = "e"
# The channel a ticket reports (``Ticket.channel``): a channel id of ``queues.channels``; a
# channel's former name (``messenger``, the Telegram queue's until 2026-12) finds the same tickets.
TICKET_CHANNELS = CHANNEL_IDS
CHANNEL_ALIASES = FORMER_NAMES
NO_NUL = "^[^\\x00]*$"
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"  # urlsafe base64 without padding
STATUS_LIST = f"^(?:{'|'.join(STATUSES)})(?:,(?:{'|'.join(STATUSES)}))*$"
CUSTOMER_PATTERN = "^(?:[0-9]{0,18}|[^\\x00]*[^0-9\\x00][^\\x00]*)$"  # an id or not all digits


@dataclass(frozen=True)
class Page:
    limit: int
    after: int | None  # keyset: only rows with a smaller id


@dataclass(frozen=True)
class TicketList(Page):
    statuses: tuple[str, ...]
    channel: str
    assignee: str
    customer: int | str
    q: str


def ticket_list(args) -> TicketList:
    """Validate the ticket list parameters; a 400 names every invalid one."""
    errors: dict[str, str] = {}
    limit, after = page_args(args, TICKET_CURSOR, errors)
    values = dict(statuses=_statuses(args, errors), channel=_channel(args, errors),
                  assignee=text_arg(args, "assignee", errors), customer=_customer(args, errors),
                  q=text_arg(args, "q", errors))
    if errors:
        raise bad_request(errors)
    return TicketList(limit, after, **values)


def json_body() -> dict:
    """The request body as a JSON object; a 400 names what is wrong with it."""
    try:
        body = json_input.parse(request.get_data(cache=False), strict_text=True)
    except json_input.BadJson as exc:
        raise ApiError(400, exc.code, exc.message, exc.fields) from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object",
                       {"body": "expected a JSON object"})
    return body


def entry_list(args, kind: str = ENTRY_CURSOR) -> Page:
    errors: dict[str, str] = {}
    page = page_args(args, kind, errors)
    if errors:
        raise bad_request(errors)
    return Page(*page)


def page_args(args, kind: str, errors: dict) -> tuple[int, int | None]:
    raw = args.get("limit", "").strip()
    limit = int(raw) if _is_int(raw) else DEFAULT_LIMIT
    if raw and not (_is_int(raw) and 1 <= limit <= MAX_LIMIT):
        errors["limit"] = f"must be an integer from 1 to {MAX_LIMIT}"
    cursor = args.get("cursor", "").strip()
    after = decode_cursor(kind, cursor) if cursor else None
    if cursor and after is None:
        errors["cursor"] = "invalid cursor: pass next_cursor of the previous page unchanged"
    return limit, after


def _is_int(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and len(raw) <= 19


def text_arg(args, name: str, errors: dict) -> str:
    value = args.get(name, "").strip()
    if len(value) > MAX_TEXT_PARAM or "\x00" in value:
        errors[name] = f"must be at most {MAX_TEXT_PARAM} characters, without NUL"
    return value


def _statuses(args, errors: dict) -> tuple[str, ...]:
    wanted = tuple(s.strip() for s in args.get("status", "").split(",") if s.strip())
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        errors["status"] = f"unknown status {unknown[0]!r}; one of {', '.join(STATUSES)}"
    return wanted


def _channel(args, errors: dict) -> str:
    value = args.get("channel", "").strip()
    value = CHANNEL_ALIASES.get(value, value)
    if value and value not in TICKET_CHANNELS:
        errors["channel"] = f"unknown channel {value[:40]!r}; one of {', '.join(TICKET_CHANNELS)}"
    return value


def _customer(args, errors: dict) -> int | str:
    value = text_arg(args, "customer", errors)
    if not (value.isascii() and value.isdigit()):
        return value
    if not _is_int(value) or int(value) > MAX_ROW_ID:
        errors["customer"] = "customer id out of range"
        return value
    return int(value)


def escape_like(value: str) -> str:
    """``value`` as a literal inside a LIKE pattern with ``\\`` as the escape character."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(kind: str, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}{row_id}".encode()).rstrip(b"=").decode()


def decode_cursor(kind: str, cursor: str) -> int | None:
    """The row id inside ``cursor``, or None when it is not a cursor of this list."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except ValueError:
        return None
    digits = raw[len(kind):]
    if not raw.startswith(kind) or not _is_int(digits) or not 0 < int(digits) <= MAX_ROW_ID:
        return None
    return int(digits)


def page(rows: list, limit: int, kind: str) -> tuple[list, str | None]:
    """Rows of one page (the query fetched ``limit + 1``) and the cursor of the next one."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(kind, rows[limit - 1].id)


# --- the parameters as the OpenAPI document shows them -------------------------------------------

def text_query(description: str, pattern: str = NO_NUL):
    """A free-text query parameter: at most ``MAX_TEXT_PARAM`` characters, no NUL."""
    return Field("", max_length=MAX_TEXT_PARAM, pattern=pattern, description=description)


class PageQuery(BaseModel):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                       description=f"page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})")
    cursor: str = Field("", pattern=CURSOR_PATTERN, description="`next_cursor` of the previous "
                        "page, unchanged (any other value: 400)")


class TicketQuery(PageQuery):
    status: str = Field("", pattern=STATUS_LIST,
                        description="comma-separated statuses (default: all but deleted)")
    channel: Literal[(*TICKET_CHANNELS, *CHANNEL_ALIASES)] = Field(  # type: ignore[valid-type]
        None, description="the channel a ticket reports (`messenger` is accepted for `telegram`)")
    assignee: str = text_query("agent id")
    customer: str = text_query("email address, customer id, or kind:value of another identity",
                               CUSTOMER_PATTERN)
    q: str = text_query("words of the subject or of any message text, in order; a trailing * "
                        "matches word starts (docs/api.md)")


class TicketNumber(BaseModel):
    number: int = Field(ge=1, description="ticket number within the workspace")


class EntryId(BaseModel):
    id: int = Field(ge=1, description="entry id")
