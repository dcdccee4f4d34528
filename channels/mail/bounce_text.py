"""What bounce prose says: the delivery status, the failed recipient, the original Message-ID.

Many MTAs (qmail, Exim, Exchange, Domino, ...) send a plain-text explanation instead of an
RFC 3464 report, and even structured reports hide facts in free text (``Diagnostic-Code``).
Everything here works on text alone and never raises; ``dsn`` turns the findings into facts.
The text is the sender's, so every pattern is RE2 (``linear_regex``): linear in its length.
RE2 has no lookaround, so where a code must not sit inside a longer number the neighbouring
character is matched (``[^\\d.]``) outside the captured group instead.
"""
from __future__ import annotations

from itertools import islice

from channels.mail.linear_regex import first_found, linear
from channels.mail.safe_headers import ADDRESS

CANDIDATE_LIMIT = 50      # addresses tried per pattern: past the bounce's own From/To, enough

# RFC 3463 enhanced status, not inside a longer dotted number such as an IP address: the
# characters before and after are matched, so the code itself is always group 1.
_STATUS = r"([245]\.\d{1,3}\.\d{1,3})(?:[^\d.]|\z)"
ENHANCED_STATUS_RE = linear(r"(?:^|[^\d.])" + _STATUS)
STATUS_FIELD_RE = linear(r"^[ \t]*status:[ \t]*" + _STATUS, multiline=True)
# "550 5.1.1", "550-5.1.1", "554 #5.7.1": an SMTP reply code then its enhanced code.
REPLY_WITH_STATUS_RE = linear(r"(?:^|\D)[45]\d\d[ -]#?" + _STATUS)
# qmail writes "(#5.1.1)" at the end of its explanation.
QMAIL_STATUS_RE = linear(r"\(#([245]\.\d{1,3}\.\d{1,3})\)")
# An enhanced code opening a line: "5.2.2 <a@b>... Mailbox Full".
LINE_STATUS_RE = linear(r"^[ \t]*([245]\.\d{1,3}\.\d{1,3})\s", multiline=True)
# A bare SMTP reply code where MTAs quote the remote answer: "said: 550 ..." or a line "550 ...".
REPLY_CODE_RE = linear(r"(?:said|error|response|reply|code)\s*:?\s*\(?([45])\d\d(?:\D|$)|"
                       r"^[ \t]*(?:<<<[ \t]*)?([45])\d\d[ -]\D", multiline=True)
# Wording of a final failure, and of a delay notice (the message is still queued).
PERMANENT_RE = linear(r"permanent(?:ly)?\b|fatal error|given up|giving up|retry timeout "
                      r"exceeded|does not exist|user unknown|unknown user|no such user")
TEMPORARY_RE = linear(r"not yet been delivered|will (?:continue to )?(?:be )?retr|"
                      r"still being retried|delayed|temporar(?:y|ily)")
# The returned message's headers pasted into the text.
MESSAGE_ID_RE = linear(r"^[ \t]*message-id:\s*(<[^<>\s]+>|[^<>\s]+@[^<>\s]+)", multiline=True)

# Lines that name the failed recipient in prose bounces, most specific first.
RECIPIENT_LINE_RES = tuple(linear(p, multiline=True) for p in (
    # the address alone on its line, maybe quoted, bulleted, or followed by the reason:
    # qmail "<a@b>:", Postfix "<a@b>: host ... said", Sendmail "<a@b>... User unknown",
    # Exim "  a@b", Exchange "a@b on 2/17/2014", "* a@b", '"a@b":', "a@b [User unknown]"
    r"^[ \t]*(?:[*-]+[ \t]*)?[\"'<]?(" + ADDRESS + r")[\"'>]?[ \t]*(?::|\.\.\.|$|\(|\[|on\s)",
    # Domino: "User Name (a@b) not listed in Domino Directory"
    r"\((" + ADDRESS + r")\)\s+not listed",
    # "RCPT TO:<a@b>" in a quoted SMTP transcript
    r"rcpt to:[ \t]*<?(" + ADDRESS + r")>?",
    # "could not be delivered to: a@b", "error delivering your mail to <a@b>", "unknown user a@b",
    # "Delivery failed: a@b", "Delivery failed 20 attempts: a@b"
    r"(?:deliver\w*\s+(?:(?:your|the)\s+(?:mail|message)\s+)?to|recipient(?:\(s\))?|"
    r"unknown user|user unknown|address|failed|attempts)\s*:?\s*['\"<]?(" + ADDRESS + r")",
    # the message's recipient in Gmail's and Office 365's prose, in their locales: "Your message
    # to a@b couldn't be delivered", "Ihre Nachricht wurde nicht an a@b zugestellt", "Votre
    # message à a@b ...", "Uw bericht aan a@b ...", "Sua mensagem para a@b ..."
    r"(?:message|nachricht|mensaje|mensagem|messaggio|bericht)\s+(?:\w+\s+){0,2}"
    r"(?:to|an|à|a|para|per|aan)\s+<?(" + ADDRESS + r")",
    # last resort: the To header of the returned message quoted in the text, one address only
    r"^to:[ \t]*(?:[^<>\n,]*<)?(" + ADDRESS + r")>?[ \t]*$",
    # a sentence ending in the address: "User's mailbox is full: <a@b>" (a space before the
    # colon, so that a header line such as "From: <a@b>" is not one)
    r"^[^:\n]{0,78}[ \t][^:\n]{1,78}:[ \t]*<(" + ADDRESS + r")>[ \t]*$",
))


def find_status(text: str) -> str:
    """The delivery status in prose: an SMTP code if any, else from the wording (permanent
    failure 5.0.0, delay 4.0.0), else ''."""
    if not text:  # most report fields have no Diagnostic-Code: spare the searches
        return ""
    status = find_smtp_status(text)
    if status:
        return status
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
    match = REPLY_CODE_RE.search(text or "")
    return f"{match.group(1) or match.group(2)}.0.0" if match else ""


def find_recipient_line(text: str, exclude: tuple[str, ...] = ()) -> str:
    """The first address that a known prose line names as the failed recipient, lower-cased;
    addresses in ``exclude`` (the bounce's own From/To) are passed over."""
    skip = {a.lower() for a in exclude}
    for pattern in RECIPIENT_LINE_RES:
        for match in islice(pattern.finditer(text or ""), CANDIDATE_LIMIT):
            candidate = match.group(1).strip(".").lower()
            if candidate not in skip:
                return candidate
    return ""


def find_quoted_message_id(text: str) -> str:
    """The value of the first "Message-ID:" line pasted into the text ('' when none)."""
    return first_found(MESSAGE_ID_RE, text)
