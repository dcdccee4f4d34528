"""Reading delivery reports: RFC 3464 DSNs, ARF feedback reports and plain-text bounces.

Everything here reads an already parsed ``email.message.EmailMessage`` and never raises: header
values and bodies of reports are often malformed, so every access falls back to raw text. The
report text is the sender's, so every pattern is RE2 (``linear_regex``).
``read_delivery_status`` and ``read_feedback_report`` handle the structured ``multipart/report``
forms (their "Name: value" fields are parsed here); ``read_text_bounce`` digs the failed
recipient and status out of the prose that many MTAs send instead, with ``bounce_text``.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from channels.mail.bounce_text import ENHANCED_STATUS_RE, find_recipient_line, find_status
from channels.mail.linear_regex import first_found, linear
from channels.mail.report_parts import find_part, part_text, readable_text
from channels.mail.returned_message import original_message_id, original_recipient
from channels.mail.safe_headers import ADDRESS, addresses, header_text

ADDRESS_RE = linear(ADDRESS)
# Per-recipient blocks read from one report: real reports name a few, and each block costs
# several pattern searches, so a report of 100,000 tiny blocks must not cost 100,000 of them.
RECIPIENT_BLOCK_LIMIT = 200
FIELD_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
RECIPIENT_FIELDS = {"final-recipient", "original-recipient", "action", "status"}
FAILED_RECIPIENTS_HEADER = "X-Failed-Recipients"  # Exim names the failed addresses here


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient block of a delivery report."""
    recipient: str
    action: str = ""      # failed, delayed, delivered, relayed, expanded
    status: str = ""      # RFC 3463 code such as 5.1.1

    @property
    def failed(self) -> bool:
        return self.action == "failed" or self.status.startswith("5")


@dataclass(frozen=True)
class ReportFacts:
    """What a report says about the message it returns."""
    recipient: str = ""
    status: str = ""
    original_message_id: str = ""
    detail: str = ""      # short description for the classification reason


# --- structured reports (RFC 3464 DSN, RFC 5965 ARF) ----------------------------------------

DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


def has_delivery_status(message) -> bool:
    """Whether ``message`` carries a delivery-status part (``read_delivery_status`` reads it)."""
    return find_part(message, *DELIVERY_STATUS_TYPES) is not None


def read_delivery_status(message, exclude: tuple[str, ...] = ()) -> ReportFacts | None:
    """Facts from a message/delivery-status part, or None when there is none.

    The first failed recipient wins (else the first one, e.g. of a delay report); when the
    fields name no address, the report's human-readable text is searched instead."""
    part = find_part(message, *DELIVERY_STATUS_TYPES)
    if part is None:
        return None
    blocks = parse_status_fields(part_text(part))
    chosen = choose_recipient(blocks) or (blocks[0] if blocks else RecipientStatus(""))
    recipient = chosen.recipient or find_recipient(readable_text(message), exclude)
    status = chosen.status or {"failed": "5.0.0", "delayed": "4.0.0"}.get(chosen.action, "")
    detail = f"{chosen.action or 'no action'} {recipient or 'no recipient'} {status}".strip()
    return ReportFacts(recipient, status, original_message_id(message), detail)


def read_feedback_report(message) -> ReportFacts | None:
    """Facts from an ARF message/feedback-report part, or None when there is none."""
    part = find_part(message, "message/feedback-report")
    if part is None:
        return None
    fields = _fields(_unfold(part_text(part)))
    recipient = _address_field(fields.get("original-rcpt-to", "")) or \
        _address_field(fields.get("removal-recipient", "")) or original_recipient(message)
    feedback_type = fields.get("feedback-type", "").strip().lower() or "unknown"
    return ReportFacts(recipient, "", original_message_id(message),
                       f"feedback-type={feedback_type} {recipient}".strip())


def parse_status_fields(text: str) -> list[RecipientStatus]:
    """The per-recipient blocks (Final-/Original-Recipient, Action, Status) of DSN text.

    A block with an Action or Status but no usable address (``rfc822; @host``) is kept with
    an empty recipient: its status still counts."""
    found = []
    for block in _blocks(text):
        fields = _fields(block)
        if not RECIPIENT_FIELDS.intersection(fields):
            continue
        recipient = _address_field(fields.get("final-recipient", "")) or \
            _address_field(fields.get("original-recipient", ""))
        action = fields.get("action", "").strip().lower().split(" ")[0]
        status = first_found(ENHANCED_STATUS_RE, fields.get("status", "")) or \
            find_status(fields.get("diagnostic-code", ""))
        found.append(RecipientStatus(recipient, action, status))
        if len(found) >= RECIPIENT_BLOCK_LIMIT:
            break
    return found


def choose_recipient(blocks: list[RecipientStatus]) -> RecipientStatus | None:
    """The first failed recipient, else the first named one (a delay report), else None."""
    named = [b for b in blocks if b.recipient]
    return next((b for b in named if b.failed), named[0] if named else None)


# --- prose bounces ---------------------------------------------------------------------------

def read_text_bounce(message, text: str, exclude: tuple[str, ...] = ()) -> ReportFacts:
    """Recipient, status and original Message-ID from a non-standard bounce's ``text``.

    ``exclude`` lists addresses that are not the failed recipient (the bounce's own From/To,
    i.e. the MTA and the original sender), which prose bounces mention too.
    """
    named = addresses(header_text(message, FAILED_RECIPIENTS_HEADER))
    recipient = named[0] if named else find_recipient(text, exclude)
    recipient = recipient or original_recipient(message)
    status = find_status(text)
    return ReportFacts(recipient, status, original_message_id(message, text),
                       f"{recipient} {status}".strip())


def find_recipient(text: str, exclude: tuple[str, ...] = ()) -> str:
    """The failed recipient named in bounce prose: DSN-style fields first (they are exact,
    so ``exclude`` does not apply to them), then the known prose lines."""
    block = choose_recipient(parse_status_fields(text))
    if block is not None:
        return block.recipient
    return find_recipient_line(text, exclude)


# --- "Name: value" fields --------------------------------------------------------------------

# Plain string work, no patterns: these run once per line of a report that may have 100,000.

def _unfold(text: str) -> Iterator[str]:
    """The logical lines of ``text``: folded lines (continuations start with a space or tab)
    joined with one space."""
    pending = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if pending is not None and line[:1] in (" ", "\t"):
            pending.append(line.lstrip(" \t"))
            continue
        if pending is not None:
            yield " ".join(pending)
        pending = [line]
    if pending is not None:
        yield " ".join(pending)


def _blocks(text: str) -> Iterator[list[str]]:
    """The lines of each block of report text, lazily; blank lines separate blocks."""
    block: list[str] = []
    for line in _unfold(text):
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def _fields(lines: Iterable[str]) -> dict[str, str]:
    """'Name: value' lines of one unfolded block; the first occurrence of a name wins."""
    fields: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        name = name.strip().lower()
        if sep and name[:1].isalpha() and FIELD_NAME_CHARS.issuperset(name):
            fields.setdefault(name, value.strip())
    return fields


def _address_field(value: str) -> str:
    """The address of a typed DSN field such as 'rfc822; <a@b>'."""
    found = ADDRESS_RE.search(value.partition(";")[2] or value)
    return found.group(0).strip(".").lower() if found else ""
