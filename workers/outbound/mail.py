"""Building outbound mail (pure): the MIME message of an agent reply or an acknowledgement.

Every mail carries what threads the customer's answer back, each on its own: our signed
Message-ID, In-Reply-To/References to the customer's message, Reply-To ``support+<token>@``, the
hidden marker in both bodies, and the subject token ``[#N]``. A text part and an HTML part
(sanitized); ``X-Ticketgate-Loop`` on all of them (our own mail coming back is recognized);
``Auto-Submitted: auto-replied`` and ``X-Auto-Response-Suppress: All`` only on automatic mail,
never on an agent's reply.

Stored data is not trusted to fit in a header: display text (subject, sender name) has control
characters folded to spaces, thread ids that could not be a Message-ID are left out, and an
address, attachment filename or content type with control characters makes ``build`` raise
``Unsendable`` naming the field (the delivery then fails with that reason, see ``deliver``).
"""
from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from channels import tokens
from channels.mail.classify_patterns import LOOP_HEADER
from channels.mail.html import sanitize
from channels.mail.subject import find_ticket_number, normalize, ticket_token
from store.models import utcnow

MAX_REFERENCES = 20   # the thread's root and latest ids are what clients need
MAX_ID_CHARS = 250    # a longer "Message-ID" is not one (and would not fold)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NOT_IN_ID = re.compile(r"[\s<>\x00-\x1f\x7f]")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$", re.I)
FALLBACK_TYPE = "application/octet-stream"


class Unsendable(ValueError):
    """Stored data that cannot go into a mail; the message names the field."""


@dataclass
class MailParts:
    """Everything one outbound mail says; ``build`` turns it into MIME."""
    workspace: str
    from_name: str
    from_address: str
    to: list[str]
    subject: str
    text: str
    token: str
    message_id: str                       # without brackets
    html: str = ""
    in_reply_to: str = ""                 # without brackets
    references: list[str] = field(default_factory=list)
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, type, data
    automatic: bool = False
    cc: list[str] = field(default_factory=list)   # Bcc never gets here: envelope only


def reply_subject(subject: str, number: int, prefix: str = "") -> str:
    """``Re: <subject> [#N]``: the ticket token once, reply prefixes of any language folded."""
    base = normalize(subject)
    if find_ticket_number(base, prefix) != number:
        base = f"{base} {ticket_token(number, prefix)}".strip()
    return f"Re: {base}"


def build(parts: MailParts) -> EmailMessage:
    _check_addresses(parts)
    message = EmailMessage()
    message["From"] = formataddr((_one_line(parts.from_name), parts.from_address))
    message["To"] = ", ".join(parts.to)
    if parts.cc:
        message["Cc"] = ", ".join(parts.cc)
    message["Subject"] = _one_line(parts.subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{parts.message_id}>"
    message["Reply-To"] = tokens.reply_address(parts.from_address, parts.token)
    if _usable_id(parts.in_reply_to):
        message["In-Reply-To"] = f"<{parts.in_reply_to}>"
    references = _references(parts)
    if references:
        message["References"] = " ".join(f"<{r}>" for r in references)
    message[LOOP_HEADER] = parts.workspace
    if parts.automatic:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text_body(parts.text, parts.token))
    message.add_alternative(html_body(parts.text, parts.html, parts.token), subtype="html")
    for number, (filename, content_type, data) in enumerate(parts.attachments, 1):
        maintype, _, subtype = _media_type(number, filename, content_type).partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _check_addresses(parts: MailParts) -> None:
    for field_name, address in [("from address", parts.from_address)] + [
            ("recipient", a) for a in [*parts.to, *parts.cc]]:
        if CONTROL.search(address) or not address.strip():
            raise Unsendable(f"{field_name} {address!r} is not a mail address")


def _media_type(number: int, filename: str, content_type: str) -> str:
    """The attachment's type; a malformed one becomes octet-stream, control characters in
    either field refuse the mail (a header cannot carry them)."""
    for field_name, value in (("filename", filename), ("content type", content_type)):
        if CONTROL.search(value or ""):
            raise Unsendable(f"attachment {number}: the {field_name} {value!r} contains "
                             f"control characters")
    return content_type if MEDIA_TYPE.match(content_type or "") else FALLBACK_TYPE


def _one_line(text: str) -> str:
    """Display text for a header: line breaks and other control characters become spaces."""
    return " ".join(CONTROL.sub(" ", text or "").split())


def _usable_id(value: str) -> bool:
    """A Message-ID we can repeat: no whitespace, control characters or brackets, not huge."""
    return bool(value) and len(value) <= MAX_ID_CHARS and not NOT_IN_ID.search(value)


def _references(parts: MailParts) -> list[str]:
    refs = [r for r in parts.references if _usable_id(r) and r != parts.message_id]
    if _usable_id(parts.in_reply_to) and parts.in_reply_to not in refs:
        refs.append(parts.in_reply_to)
    refs = list(dict.fromkeys(refs))
    return refs if len(refs) <= MAX_REFERENCES else refs[:1] + refs[-(MAX_REFERENCES - 1):]


def text_body(text: str, token: str) -> str:
    return f"{text.rstrip()}\n\n{tokens.text_marker(token)}\n"


def html_body(text: str, html: str, token: str) -> str:
    """The agent's HTML (sanitized) or the text as HTML, with the marker twice: a comment
    (kept by clients that quote the HTML source) and a hidden element (kept as text)."""
    content = sanitize(html) if html else _text_as_html(text)
    hidden = (f'<div style="display:none;font-size:0;color:transparent">'
              f'{tokens.text_marker(token)}</div>')
    return (f"<!DOCTYPE html><html><body>{content}\n{tokens.html_marker(token)}\n{hidden}"
            f"</body></html>")


def _text_as_html(text: str) -> str:
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html_lib.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
