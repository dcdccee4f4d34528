"""The message a bounce or complaint returns: attached whole, as headers only, or quoted in text.

Reports identify the mail they are about by returning it; its Message-ID threads the report
to our outbound mail and its To names the recipient when the report itself does not.
"""
from __future__ import annotations

from email.message import Message
from email.parser import HeaderParser
from email.policy import default as default_policy

from channels.mail.bounce_text import find_quoted_message_id
from channels.mail.report_parts import (HEADER_TYPES, ORIGINAL_TYPES, find_part, part_text,
                                        payload_of)
from channels.mail.safe_headers import addresses, header_text


def original_message(message):
    """The returned message (message/rfc822) parsed by the email package, or None."""
    part = find_part(message, *ORIGINAL_TYPES)
    payload = payload_of(part) if part is not None else None
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return None


def returned_headers(message):
    """The headers of the returned message: the attached message, else a parsed
    text/rfc822-headers part; None when the report returns neither."""
    original = original_message(message)
    if original is not None:
        return original
    part = find_part(message, *HEADER_TYPES)
    if part is None:
        return None
    try:
        return HeaderParser(policy=default_policy).parsestr(part_text(part))
    except Exception:
        return None


def original_message_id(message, fallback_text: str = "") -> str:
    """The Message-ID of the returned message, without angle brackets ('' when unknown).

    ``fallback_text`` is searched for a quoted "Message-ID:" line when no part returns the
    original (prose bounces paste its headers into the text)."""
    headers = returned_headers(message)
    found = header_text(headers, "Message-ID") if headers is not None else ""
    return _bare_id(found or find_quoted_message_id(fallback_text))


def original_recipient(message) -> str:
    """The single To address of the returned message ('' when unknown or ambiguous)."""
    headers = returned_headers(message)
    recipients = addresses(header_text(headers, "To")) if headers is not None else []
    return recipients[0] if len(recipients) == 1 else ""


def _bare_id(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()
