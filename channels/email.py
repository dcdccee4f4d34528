"""The email channel adapter: raw RFC 5322 bytes in, a canonical ``TicketEvent`` out.

Pure: no I/O. Attachment bytes come back in ``ParsedEmail.blobs`` (sha256 hex -> bytes) for the
caller to store. Broken mail still becomes an event with whatever could be read; only input that
is no mail at all raises ``Unparseable``, whose reason goes to the quarantine.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import timezone
from email.message import Message
from email.utils import parsedate_to_datetime

from channels.common import Parsed, Unparseable
from channels.event import Address, Attachment, ThreadHints, TicketEvent
from channels.mail import mime
from channels.mail.classify import classify
from channels.mail.html import sanitize, to_text
from channels.mail.html_tokens import MAX_INPUT_CHARS
from channels.mail.linear_regex import linear
from channels.mail.quotes import extract_reply
from channels.mail.subject import find_ticket_number

CHANNEL = "email"
MAX_IN_REPLY_TO = 10      # In-Reply-To holds one id; a few more tolerate junk, more is abuse
MAX_REFERENCES = 100      # root plus the latest ids thread as well as a chain of thousands
MAX_MESSAGE_ID_CHARS = 450  # longer ids are dropped: "mid:<id>:<hash16>" must fit 500 chars
MAX_ADDRESSES = 200       # per recipient header; mass mail beyond this adds nothing to a ticket
MAX_NAME_CHARS = 300      # display names longer than the store's column are cut
MAX_ADDRESS_CHARS = 320   # RFC 5321: 64 (local part) + 1 + 255 (domain)
# Characters of body text kept in the event (the raw mail keeps everything): a megabyte is
# far more than anyone reads in a ticket, and every later step's work grows with it.
MAX_TEXT_CHARS = 1_000_000
# Hidden thread marker written into outbound bodies: "[tg:<token>]" in text (possibly with
# zero-width characters in it, which some clients insert) or "<!-- tg:<token> -->" in HTML.
BODY_MARKER = linear(
    r"\[tg:([A-Za-z0-9_.=-]{1,200})\]|<!--\s*tg:([A-Za-z0-9_.=-]{1,200})\s*-->", ignore_case=False)
MAX_MARKER_SCAN_CHARS = MAX_INPUT_CHARS  # of HTML searched for the marker, as much as is read
ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# Input with none of these headers is not mail (a JSON body, an HTTP request, random bytes).
MAIL_HEADERS = frozenset({"from", "sender", "to", "cc", "subject", "date", "message-id",
                          "received", "return-path", "mime-version", "content-type", "reply-to",
                          "in-reply-to", "references", "delivered-to"})
# What str.rstrip() removes from each line (re's \s is str.isspace()), starting only where a
# run of blanks starts, so a long run without a line end is not rescanned from every blank.
_TRAILING_SPACE = re.compile(r"(?<![^\S\n])[^\S\n]++(?=\n|\Z)")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")  # linear: a failed try ends at the next "<", ">" or blank


ParsedEmail = Parsed  # the email adapter never leaves remote files


def parse(raw: bytes, *, workspace: str, account: str, received_at: str, raw_ref: str = "",
          own_domains: tuple[str, ...] = (), envelope_to: tuple[str, ...] = (),
          envelope_from: str = "", subject_prefix: str = "") -> ParsedEmail:
    """Normalize one raw mail. ``envelope_*`` are the SMTP envelope when known;
    ``subject_prefix`` is the workspace's ticket-token prefix (``[<prefix>#N]``)."""
    message = _read(raw)
    body = mime.extract(message)
    sender = _sender(message, envelope_from)
    text = _body_text(body)
    if not sender.address and not (text.strip() or body.html.strip() or body.attachments):
        raise Unparseable("no sender and no body")
    attachments, blobs = _attachments(body)
    headers = _header_fields(message)
    message_id = next(iter(_message_ids(mime.header_values(message, "message-id"), 1)), "")
    content_hash = compute_content_hash(sender.address, headers["subject"], text, attachments)
    thread = _thread_hints(message, subject=headers["subject"], subject_prefix=subject_prefix,
                           own_domains=own_domains, envelope_to=envelope_to,
                           bodies=(text, body.html))
    event = TicketEvent(
        workspace=workspace, channel=CHANNEL, account=account, received_at=received_at,
        raw_ref=raw_ref, native_id=message_id, dedupe_key=_dedupe_key(message_id, content_hash),
        content_hash=content_hash, sender=sender, text=text, reply_text=extract_reply(text),
        html=sanitize(body.html) if body.html else "", attachments=attachments, thread=thread,
        classification=classify(message, own_domains), **headers)
    return Parsed(event=event, blobs=blobs)


def _dedupe_key(message_id: str, content_hash: str) -> str:
    # the hash is part of the key even with a Message-ID: a reused id with other content is a
    # different message (broken mailers, forged ids) and must not be dropped as a duplicate
    return f"mid:{message_id}:{content_hash[:16]}" if message_id else f"hash:{content_hash}"


def _body_text(body: mime.MimeBody) -> str:
    # an empty text/plain next to a real HTML part is common (some webmailers, newsletters)
    text = body.text if body.text.strip() or not body.html else to_text(body.html)
    return _normalize_newlines(text[:MAX_TEXT_CHARS * 2]).lstrip("\n")[:MAX_TEXT_CHARS].rstrip()


def _header_fields(message: Message) -> dict:
    return {"subject": mime.header_text(message, "subject"),
            "sent_at": _sent_at(mime.header_text(message, "date")),
            "reply_to": _addresses(message, "reply-to"), "to": _addresses(message, "to"),
            "cc": _addresses(message, "cc")}


def _read(raw: bytes) -> Message:
    data = bytes(raw).lstrip()  # blank lines or stray spaces some tools put before the headers
    if not data:
        raise Unparseable("empty input")
    message = mime.parse_bytes(data)  # header sections clamped, parts and nesting capped
    if not any(name.lower() in MAIL_HEADERS for name, _ in message.raw_items()):
        raise Unparseable("no mail headers found")
    return message


def _sender(message: Message, envelope_from: str) -> Address:
    """From, else Sender, else Return-Path, else the SMTP envelope; real addresses first."""
    candidates = [pair for name in ("from", "sender", "return-path")
                  for pair in mime.address_pairs(message, name)]
    candidates.append(("", envelope_from.strip().strip("<>")))
    usable = [pair for pair in candidates if "@" in pair[1]] or [p for p in candidates if p[1]]
    return _address(*usable[0]) if usable else Address()


def _addresses(message: Message, name: str) -> list[Address]:
    return [_address(*pair) for pair in mime.address_pairs(message, name)[:MAX_ADDRESSES]]


def _address(name: str, address: str) -> Address:
    return Address(name=name[:MAX_NAME_CHARS], address=address.lower()[:MAX_ADDRESS_CHARS])


def _attachments(body: mime.MimeBody) -> tuple[list[Attachment], dict[str, bytes]]:
    attachments, blobs = [], {}
    for part in body.attachments:
        sha = hashlib.sha256(part.data).hexdigest()
        blobs[sha] = part.data
        attachments.append(Attachment(filename=part.filename, content_type=part.content_type,
                                      size=len(part.data), sha256=sha, inline=part.inline,
                                      content_id=part.content_id))
    return attachments, blobs


def _thread_hints(message: Message, *, subject: str, subject_prefix: str,
                  own_domains: tuple[str, ...], envelope_to: tuple[str, ...],
                  bodies: tuple[str, str]) -> ThreadHints:
    return ThreadHints(
        in_reply_to=_message_ids(mime.header_values(message, "in-reply-to"), MAX_IN_REPLY_TO),
        references=_message_ids(mime.header_values(message, "references"), MAX_REFERENCES),
        subject_number=find_ticket_number(subject, subject_prefix),
        reply_token=_reply_token(message, own_domains, envelope_to),
        body_marker=next(filter(None, (find_body_marker(b[:MAX_MARKER_SCAN_CHARS])
                                       for b in bodies)), ""),
    )


def _message_ids(values: list[str], limit: int) -> list[str]:
    """Message-ids without brackets, in order, deduplicated; the first and the latest kept."""
    found = []
    for value in values:
        ids = _MESSAGE_ID.findall(value) or [w for w in value.split() if "@" in w]
        found += [i.strip("<>,;") for i in ids if len(i) <= MAX_MESSAGE_ID_CHARS]
    unique = list(dict.fromkeys(i for i in found if i))
    return unique if len(unique) <= limit else unique[:1] + unique[len(unique) - limit + 1:]


def _reply_token(message: Message, own_domains: tuple[str, ...],
                 envelope_to: tuple[str, ...]) -> str:
    """The token of the first own recipient ``local+<token>@domain``, case kept (it is signed)."""
    recipients = [a.strip().strip("<>") for a in envelope_to]
    recipients += [addr for _, addr in mime.address_pairs(message, "to", "cc")]
    for address in recipients:
        local, _, domain = address.rpartition("@")
        if "+" in local and _is_own(domain, own_domains):
            return local.split("+", 1)[1]
    return ""


def _is_own(domain: str, own_domains: tuple[str, ...]) -> bool:
    domain = domain.lower()
    return not own_domains or any(domain == d.lower() or domain.endswith("." + d.lower())
                                  for d in own_domains)


def find_body_marker(body: str) -> str:
    """The token of the first hidden ``[tg:<token>]`` / ``<!-- tg:<token> -->`` marker, or ''."""
    text = ZERO_WIDTH.sub("", body)
    if "tg:" not in text:  # both forms hold it: most bodies need no regex search at all
        return ""
    match = BODY_MARKER.search(text)
    return (match.group(1) or match.group(2)) if match else ""


def _sent_at(value: str) -> str:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
    if moment.tzinfo is None:  # "-0000" means "UTC, zone unknown" (RFC 5322)
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
    except (ValueError, OverflowError):  # a date at the edge of datetime's range
        return ""


def compute_content_hash(sender: str, subject: str, text: str,
                         attachments: list[Attachment]) -> str:
    """sha256 hex of what the sender wrote, independent of transport: the same mail delivered
    by two paths (re-encoded, re-wrapped headers, CRLF vs LF) hashes the same."""
    content = [sender.lower(), " ".join(subject.split()),
               _TRAILING_SPACE.sub("", _normalize_newlines(text)).strip(),
               sorted(a.sha256 for a in attachments)]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode("utf-8")).hexdigest()


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
