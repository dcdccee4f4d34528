"""What bounce prose says: the delivery status, the failed recipient, the original Message-ID.

Many MTAs (qmail, Exim, Exchange, Domino, ...) send a plain-text explanation instead of an
RFC 3464 report, and even structured reports hide facts in free text (``Diagnostic-Code``).
Everything here works on text alone and never raises; ``dsn`` turns the findings into facts.
"""
from __future__ import annotations

import re

from channels.mail.safe_headers import ADDRESS

# RFC 3463 enhanced status, not inside a longer dotted number such as an IP address.
ENHANCED_STATUS = r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.])"
ENHANCED_STATUS_RE = re.compile(ENHANCED_STATUS)
STATUS_FIELD_RE = re.compile(r"^[ \t]*status:\s*(" + ENHANCED_STATUS + ")", re.I | re.M)
# "550 5.1.1", "550-5.1.1", "554 #5.7.1": an SMTP reply code then its enhanced code.
REPLY_WITH_STATUS_RE = re.compile(r"(?<!\d)[45]\d\d[ -]#?(" + ENHANCED_STATUS + ")")
# qmail writes "(#5.1.1)" at the end of its explanation.
QMAIL_STATUS_RE = re.compile(r"\(#(" + ENHANCED_STATUS + r")\)")
# An enhanced code opening a line: "5.2.2 <a@b>... Mailbox Full".
LINE_STATUS_RE = re.compile(r"^[ \t]*(" + ENHANCED_STATUS + r")\s", re.M)
# A bare SMTP reply code where MTAs quote the remote answer: "said: 550 ..." or a line "550 ...".
REPLY_CODE_RE = re.compile(r"(?:said|error|response|reply|code)\s*:?\s*\(?([45])\d\d(?!\d)|"
                           r"^[ \t]*(?:<<<\s*)?([45])\d\d[ -](?=\D)", re.I | re.M)
# Wording of a final failure, and of a delay notice (the message is still queued).
PERMANENT_RE = re.compile(r"permanent(?:ly)?\b|fatal error|given up|giving up|retry timeout "
                          r"exceeded|does not exist|user unknown|unknown user|no such user", re.I)
TEMPORARY_RE = re.compile(r"not yet been delivered|will (?:continue to )?(?:be )?retr|"
                          r"still being retried|delayed|temporar(?:y|ily)", re.I)
# The returned message's headers pasted into the text.
MESSAGE_ID_RE = re.compile(r"^[ \t]*message-id:\s*(<[^<>\s]+>|[^<>\s]+@[^<>\s]+)", re.I | re.M)

# Lines that name the failed recipient in prose bounces, most specific first.
RECIPIENT_LINE_RES = tuple(re.compile(p, re.I | re.M) for p in (
    # the address alone on its line, maybe quoted, bulleted, or followed by the reason:
    # qmail "<a@b>:", Postfix "<a@b>: host ... said", Sendmail "<a@b>... User unknown",
    # Exim "  a@b", Exchange "a@b on 2/17/2014", "* a@b", '"a@b":', "a@b [User unknown]"
    r"^[ \t]*(?:[*-]+\s*)?[\"'<]?(" + ADDRESS + r")[\"'>]?\s*(?::|\.\.\.|$|\(|\[|on\s)",
    # Domino: "User Name (a@b) not listed in Domino Directory"
    r"\((" + ADDRESS + r")\)\s+not listed",
    # "RCPT TO:<a@b>" in a quoted SMTP transcript
    r"rcpt to:\s*<?(" + ADDRESS + r")>?",
    # "could not be delivered to: a@b", "error delivering your mail to <a@b>", "unknown user a@b",
    # "Delivery failed: a@b", "Delivery failed 20 attempts: a@b"
    r"(?:deliver\w*\s+(?:(?:your|the)\s+(?:mail|message)\s+)?to|recipient(?:\(s\))?|"
    r"unknown user|user unknown|address|failed|attempts)\s*:?\s*['\"<]?(" + ADDRESS + r")",
    # last resort: the To header of the returned message quoted in the text, one address only
    r"^to:\s*(?:[^<>\n,]*<)?(" + ADDRESS + r")>?\s*$",
    # a sentence ending in the address: "User's mailbox is full: <a@b>"
    r"^(?=[^:\n]*\s)[^:\n]{3,80}:\s*<(" + ADDRESS + r")>\s*$",
))


def find_status(text: str) -> str:
    """The delivery status in prose: an SMTP code if any, else from the wording (permanent
    failure 5.0.0, delay 4.0.0), else ''."""
    if find_smtp_status(text):
        return find_smtp_status(text)
    if PERMANENT_RE.search(text):
        return "5.0.0"
    return "4.0.0" if TEMPORARY_RE.search(text) else ""


def find_smtp_status(text: str) -> str:
    """An SMTP status quoted in text: a Status field, "550 5.1.1", "(#5.1.1)", a line starting
    "5.2.2 ", else a bare reply code ("said: 550" gives 5.0.0); '' when there is none."""
    for pattern in (STATUS_FIELD_RE, REPLY_WITH_STATUS_RE, QMAIL_STATUS_RE, LINE_STATUS_RE):
        found = first_found(pattern, text)
        if found:
            return found
    match = REPLY_CODE_RE.search(text)
    return f"{match.group(1) or match.group(2)}.0.0" if match else ""


def find_recipient_line(text: str, exclude: tuple[str, ...] = ()) -> str:
    """The first address that a known prose line names as the failed recipient, lower-cased;
    addresses in ``exclude`` (the bounce's own From/To) are passed over."""
    skip = {a.lower() for a in exclude}
    for pattern in RECIPIENT_LINE_RES:
        for match in pattern.finditer(text):
            candidate = match.group(1).strip(".").lower()
            if candidate not in skip:
                return candidate
    return ""


def find_quoted_message_id(text: str) -> str:
    """The value of the first "Message-ID:" line pasted into the text ('' when none)."""
    return first_found(MESSAGE_ID_RE, text)


def first_found(pattern: re.Pattern, text: str) -> str:
    """What the first match of ``pattern`` captured: its first group, or the whole match when
    the pattern has no group; '' when nothing matches (or ``text`` is empty)."""
    match = pattern.search(text or "")
    return match.group(1) if match and match.groups() else (match.group(0) if match else "")
